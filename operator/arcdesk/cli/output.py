"""The single printer: every command prints through here (table, json or yaml)."""

from __future__ import annotations

import enum
import itertools
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


def emit_object(data: dict[str, Any], fmt: Format) -> None:
    """Print one object: json/yaml as is, table as `kubectl describe` would."""
    if fmt is Format.table:
        typer.echo(describe(data), nl=False)
    else:
        emit(data, fmt)


def _label(key: str) -> str:
    """``nodeSelector`` -> ``Node selector``."""
    spaced = key[:1] + "".join(f" {c.lower()}" if c.isupper() and prev.islower() else c
                               for prev, c in itertools.pairwise(key))
    words = [w.upper() if w in _ACRONYMS else w for w in spaced.split(" ")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


_ACRONYMS = {"cpu", "gpu", "url", "ip"}


def describe(data: dict[str, Any], indent: int = 0) -> str:
    """Scalars as 'Key: value', mappings nested, lists of mappings as indented tables."""
    pad = " " * indent
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.append(f"{pad}{_label(key)}:" + ("" if value else " <none>") + "\n")
            out.append(describe(value, indent + 2))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(f"{pad}{_label(key)}:\n")
            rows = table(value, _columns(value))
            out.extend(f"{pad}  {line}\n" for line in rows.splitlines())
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value) or "<none>"
            out.append(f"{pad}{_label(key)}: {shown}\n")
        else:
            out.append(f"{pad}{_label(key)}: {'' if value is None else value}\n")
    return "".join(out)


def info(message: str) -> None:
    """A progress or confirmation line for people, on stderr (stdout stays parseable)."""
    typer.echo(message, err=True)


class SeatsBar:
    """`7/10 seats ready [#######---]` on stderr: redrawn on a terminal, a line per change
    otherwise (logs of CI jobs stay short)."""

    WIDTH = 30

    def __init__(self, label: str) -> None:
        self.label = label
        self.last: tuple[int, int] | None = None
        self.tty = sys.stderr.isatty()

    def show(self, progress: Any) -> None:
        """Draw a :class:`arcdesk.tasks.summaries.Progress`."""
        self.update(int(progress.ready), int(progress.desired))

    def update(self, ready: int, desired: int) -> None:
        if (ready, desired) == self.last:
            return
        self.last = (ready, desired)
        if not desired:
            line = f"{self.label}: waiting for the operator"
            typer.echo(f"\r{line}" if self.tty else line, err=True, nl=not self.tty)
            return
        filled = self.WIDTH * ready // desired if desired else 0
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{self.label}: [{bar}] {ready}/{desired} seats ready"
        if self.tty:
            typer.echo(f"\r{line}", err=True, nl=False)
        else:
            typer.echo(line, err=True)

    def close(self) -> None:
        if self.tty and self.last is not None:
            typer.echo("", err=True)


def say(message: str) -> None:
    """The result of a change, on stdout as kubectl prints it (`course x created`)."""
    typer.echo(message)


def raw(text: str | bytes) -> None:
    """A document as is on stdout (a CSV handout piped elsewhere), no newline added."""
    typer.echo(text, nl=False)
