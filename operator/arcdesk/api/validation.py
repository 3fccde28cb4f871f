"""Pure offline validation of an object against a CRD's openAPIV3Schema.

Messages follow the API server's wording (so a user sees the same text offline and from
``kubectl apply``), prefixed with the field path and followed by how to fix it. CEL rules
from the schema are evaluated by :mod:`arcdesk.api.cel_rules` where they can be offline.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arcdesk.api import cel_rules
from arcdesk.api.schema_defaults import apply_defaults


@dataclass(frozen=True)
class Problem:
    """One reason an object is invalid."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def validate(obj: dict[str, Any], schema: dict[str, Any]) -> list[Problem]:
    """Problems of ``obj`` (defaults applied first, as the API server does)."""
    problems: list[Problem] = []
    _check(apply_defaults(obj, schema), schema, "", problems, root=True)
    return problems


def _check(
    value: Any, schema: dict[str, Any], path: str, out: list[Problem], root: bool = False
) -> None:
    if not _type_ok(value, schema, path, out):
        return
    if isinstance(value, dict):
        _check_object(value, schema, path, out, root)
    elif isinstance(value, list):
        _check_array(value, schema, path, out)
    else:
        _check_scalar(value, schema, path, out)
    shown = f'Invalid value: "{_json_type(value)}"'  # how the API server prefixes a rule
    out.extend(Problem(path, f"{shown}: {msg}") for msg in cel_rules.failures(value, schema))


def _type_ok(value: Any, schema: dict[str, Any], path: str, out: list[Problem]) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        expected: tuple[type, ...] = (int, str)
        name = "integer or string"
    elif "type" in schema:
        expected, name = _TYPES[schema["type"]], schema["type"]
    else:
        return True
    if int in expected and isinstance(value, float) and value.is_integer():
        return True  # JSON has one number type: 3.0 is an integer to the API server too
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        got = _json_type(value)
        out.append(
            Problem(path, f'Invalid value: "{got}": {path} in body must be of type {name}: "{got}"')
        )
        return False
    return True


def _json_type(value: Any) -> str:
    for name, kinds in _TYPES.items():
        if isinstance(value, kinds) and not (isinstance(value, bool) and name != "boolean"):
            return name
    return "null"


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], path: str, out: list[Problem], root: bool
) -> None:
    props: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            out.append(Problem(_join(path, key), "Required value: add this field"))
    extra = schema.get("additionalProperties")
    for key, sub in value.items():
        child = _join(path, key)
        if key in props:
            if not (root and key == "metadata"):
                _check(sub, props[key], child, out)
        elif isinstance(extra, dict):
            _check(sub, extra, child, out)
        elif not schema.get("x-kubernetes-preserve-unknown-fields") and (props or extra is False):
            hint = _closest(key, list(props))
            out.append(Problem(child, f'unknown field "{child}"{hint}'))


def _check_array(value: list[Any], schema: dict[str, Any], path: str, out: list[Problem]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        out.append(Problem(path, f"Invalid value: {len(value)}: {path} in body should have "
                                 f"at least {schema['minItems']} items"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(Problem(path, f"Too many: {len(value)}: must have at most "
                                 f"{schema['maxItems']} items"))
    keys = _list_map_keys(schema)
    seen: set[tuple[Any, ...]] = set()
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        _check(item, schema.get("items", {}), item_path, out)
        if keys and isinstance(item, dict):
            key = tuple(item.get(k) for k in keys)
            if key in seen:
                shown = json.dumps({k: item.get(k) for k in keys}, separators=(",", ":"))
                out.append(Problem(item_path, f"Duplicate value: {shown}: "
                                              f"{' and '.join(keys)} must be unique in the list"))
            seen.add(key)


def _list_map_keys(schema: dict[str, Any]) -> list[str]:
    """Keys that must be unique across a ``x-kubernetes-list-type: map`` list."""
    if schema.get("x-kubernetes-list-type") != "map":
        return []
    keys: list[str] = schema.get("x-kubernetes-list-map-keys", [])
    return keys


def _check_scalar(value: Any, schema: dict[str, Any], path: str, out: list[Problem]) -> None:
    shown = f'"{value}"' if isinstance(value, str) else str(value).lower()
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' for v in schema["enum"])
        out.append(Problem(path, f"Unsupported value: {shown}: supported values: {allowed}"))
    for key, word in (("minimum", "greater"), ("maximum", "less")):
        if key in schema and isinstance(value, int | float) and _outside(value, schema[key], word):
            out.append(
                Problem(path, f"Invalid value: {value}: {path} in body should be {word} "
                        f"than or equal to {schema[key]}")
            )
    if isinstance(value, str):
        _check_string(value, schema, path, shown, out)


def _outside(value: float, bound: float, word: str) -> bool:
    return value < bound if word == "greater" else value > bound


def _check_string(
    value: str, schema: dict[str, Any], path: str, shown: str, out: list[Problem]
) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(Problem(path, f"Too long: may not be more than {schema['maxLength']} bytes"))
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append(Problem(path, f"Invalid value: {shown}: {path} in body should be at least "
                                 f"{schema['minLength']} chars long"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(Problem(path, f"Invalid value: {shown}: {path} in body should match "
                                 f"'{schema['pattern']}'"))
    if schema.get("format") == "date-time":
        _check_date_time(value, path, shown, out)


def _check_date_time(value: str, path: str, shown: str, out: list[Problem]) -> None:
    if not _is_rfc3339(value):
        out.append(Problem(path, f"Invalid value: {shown}: {path} in body must be of type "
                                 f"date-time: {shown} (use RFC 3339, e.g. 2026-12-01T08:00:00Z)"))
    elif value != value.upper():
        # The format check allows 't'/'z', but the API server's CEL rules cannot parse them.
        out.append(Problem(path, f"Invalid value: {shown}: write 'T' and 'Z' in upper case, "
                                 "e.g. 2026-12-01T08:00:00Z"))


# The API server's date-time check (kube-openapi strfmt.IsDateTime): a 'T' and a zone.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_rfc3339(value: str) -> bool:
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _closest(key: str, known: list[str]) -> str:
    match = difflib.get_close_matches(key, known, n=1)
    return f"; did you mean {match[0]!r}?" if match else ""
