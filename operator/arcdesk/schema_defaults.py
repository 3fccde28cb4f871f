"""Pure: apply the defaults declared in a CRD schema, as the API server does."""

from __future__ import annotations

import copy
from typing import Any


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """Return a copy of ``value`` with schema defaults filled in (objects and lists)."""
    value = copy.deepcopy(value)
    _fill(value, schema)
    return value


def _fill(value: Any, schema: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                _fill(value[key], sub)
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _fill(item, schema["items"])
