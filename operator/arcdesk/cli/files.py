"""Reading YAML files given on the command line, with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class InputError(Exception):
    """A file that cannot be used; the message says which and why."""


def load_documents(path: Path) -> list[Any]:
    """All YAML documents of ``path`` ('-' is not supported: pass a file)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{path}:{where}: not valid YAML: {problem}") from exc
    if not docs:
        raise InputError(f"{path}: no YAML documents found")
    return docs
