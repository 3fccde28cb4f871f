"""Loads tests/data/invalid_courses.yaml: one table of bad Courses for every tier."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).parent / "data" / "invalid_courses.yaml"


@dataclass(frozen=True)
class InvalidCase:
    name: str
    spec: dict[str, Any]
    field: str
    message: str

    def course(self, name: str = "bad-course", namespace: str = "default") -> dict[str, Any]:
        return {
            "apiVersion": "arcdesk.dev/v1alpha1",
            "kind": "Course",
            "metadata": {"name": name, "namespace": namespace},
            "spec": copy.deepcopy(self.spec),
        }


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _remove(spec: dict[str, Any], dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        spec = spec[key]
    spec.pop(leaf, None)


def load_cases() -> list[InvalidCase]:
    table = yaml.safe_load(TABLE.read_text())
    cases = []
    for raw in table["cases"]:
        spec = _merge(table["base"], raw.get("set", {}))
        for dotted in raw.get("remove", []):
            _remove(spec, dotted)
        cases.append(InvalidCase(raw["name"], spec, raw["field"], raw["message"]))
    return cases


def valid_base() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(TABLE.read_text())["base"])
