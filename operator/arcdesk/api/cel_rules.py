"""Pure: evaluate a schema node's CEL rules (x-kubernetes-validations) offline.

Values are typed as the API server types them (date-time -> timestamp, duration ->
duration). A rule using a Kubernetes-only CEL library function cannot be checked here;
it is left to the API server rather than reported as a false problem.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

_ENV = celpy.Environment()


@cache
def _program(rule: str) -> celpy.Runner:
    return _ENV.program(_ENV.compile(rule))


def failures(value: Any, schema: dict[str, Any]) -> list[str]:
    """Messages of the CEL rules on ``schema`` that ``value`` breaks."""
    rules = schema.get("x-kubernetes-validations", [])
    if not rules:
        return []
    try:
        activation = {"self": to_cel(value, schema)}
    except ValueError:  # e.g. a malformed date-time, already reported as a format problem
        return []
    messages = []
    for rule in rules:
        try:
            result = _program(rule["rule"]).evaluate(activation)
        except (CELParseError, CELEvalError):  # Kubernetes-only syntax or functions
            continue
        if isinstance(result, bool | celtypes.BoolType) and not result:
            messages.append(rule.get("message") or f"failed rule: {rule['rule']}")
    return messages


def to_cel(value: Any, schema: dict[str, Any]) -> Any:
    """Convert JSON ``value`` to CEL values, honouring the schema's string formats."""
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        fallback = extra if isinstance(extra, dict) else {}
        return celtypes.MapType(
            {celtypes.StringType(k): to_cel(v, props.get(k, fallback)) for k, v in value.items()}
        )
    if isinstance(value, list):
        return celtypes.ListType([to_cel(v, schema.get("items", {})) for v in value])
    if isinstance(value, str):
        fmt = schema.get("format")
        if fmt == "date-time":
            return celtypes.TimestampType(value)
        if fmt == "duration":
            return celtypes.DurationType(value)
    return json_to_cel(value)
