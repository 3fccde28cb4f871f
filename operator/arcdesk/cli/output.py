"""The single printer: every command prints through here (table, json or yaml)."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Sequence
from typing import Any

import typer
import yaml


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def emit(data: Any, fmt: Format, columns: Sequence[str] = ()) -> None:
    """Print ``data`` (a list of row dicts, or one object) in ``fmt``."""
    if fmt is Format.json:
        typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
    elif fmt is Format.yaml:
        typer.echo(dump_yaml(data), nl=False)
    else:
        rows = data if isinstance(data, list) else [data]
        typer.echo(table(rows, columns or _columns(rows)), nl=False)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def emit_documents(docs: Sequence[dict[str, Any]]) -> None:
    """Print manifests as one multi-document YAML stream."""
    typer.echo(yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True), nl=False)


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(rows[0]) if rows else []


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Plain aligned columns with upper-case headers, like kubectl."""
    cells = [[str(c).upper() for c in columns]]
    cells += [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["   ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"


def error(message: str) -> None:
    """A diagnostic on stderr (never on stdout, which scripts parse)."""
    typer.echo(f"error: {message}", err=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error and return the Exit to raise."""
    error(message)
    sys.stderr.flush()
    return typer.Exit(code)
