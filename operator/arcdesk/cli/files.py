"""Reading YAML files given on the command line, with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class InputError(Exception):
    """A file that cannot be used; the message says which and why."""


class _KubeLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML the way kubectl does: timestamps stay strings.

    PyYAML would turn an unquoted ``start: 2026-12-01T08:00:00Z`` into a datetime, which
    the schema (type string, format date-time) would then wrongly reject.
    """


_KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_documents(text: str) -> list[Any]:
    """The non-empty YAML documents of ``text`` (raises yaml.YAMLError)."""
    return [d for d in yaml.load_all(text, Loader=_KubeLoader) if d is not None]


def load_documents(path: Path) -> list[Any]:
    """All YAML documents of ``path`` ('-' is not supported: pass a file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text file (not UTF-8 at byte {exc.start})") from exc
    try:
        docs = parse_documents(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{path}:{where}: not valid YAML: {problem}") from exc
    if not docs:
        raise InputError(f"{path}: no YAML documents found")
    return docs
