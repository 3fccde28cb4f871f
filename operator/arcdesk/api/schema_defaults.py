"""Pure: apply the defaults declared in a CRD schema, as the API server does.

Like the API server, a ``null`` in a field that is not ``nullable`` is dropped before
defaulting (so ``idle:`` left empty in YAML means "unset"), or replaced by the default.
"""

from __future__ import annotations

import copy
from typing import Any


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """Return a copy of ``value`` with non-nullable nulls pruned and schema defaults filled."""
    value = copy.deepcopy(value)
    _fill(value, schema)
    return value


def _field_schema(key: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    props: dict[str, Any] = schema.get("properties", {})
    if key in props:
        sub: dict[str, Any] = props[key]
        return sub
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _fill(value: Any, schema: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key in list(value):
            sub = _field_schema(key, schema)
            if value[key] is None and sub is not None and not sub.get("nullable"):
                del value[key]  # re-added below when the field has a default
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
        for key, child in value.items():
            sub = _field_schema(key, schema)
            if sub is not None:
                _fill(child, sub)
    elif isinstance(value, list) and "items" in schema:
        items = schema["items"]
        for index, item in enumerate(value):
            if item is None and "default" in items and not items.get("nullable"):
                value[index] = copy.deepcopy(items["default"])
            _fill(value[index], items)
