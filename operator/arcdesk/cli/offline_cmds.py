"""`arcdesk validate` and `arcdesk render`: offline, against the CRD schema file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from arcdesk.api.settings import Settings
from arcdesk.build import profiles
from arcdesk.cli.files import InputError, load_documents
from arcdesk.cli.output import emit_documents, fail, info, say
from arcdesk.tasks import offline

FileOption = Annotated[Path, typer.Option("-f", "--filename", help="YAML file with a Course.")]


def validate(
    filenames: Annotated[
        list[Path],
        typer.Option("-f", "--filename", metavar="FILE", help="YAML file to check (repeatable)."),
    ],
    more_files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="FILE", help="More files, so `-f examples/*.yaml` works."),
    ] = None,
) -> None:
    """Check Course (or DesktopProfile) files against the CRD schema; one line per problem."""
    bad = 0
    for path in [*filenames, *(more_files or [])]:
        bad += _validate_file(path)
    if bad:
        raise fail(f"{bad} problem{'s' if bad > 1 else ''} found", 1)


def _validate_file(path: Path) -> int:
    """Print ``path``'s problems (or that it is valid); return how many there are."""
    docs = _load(path)
    bad = 0
    for doc in docs:
        for problem in offline.check_document(doc):
            say(f"{path}: {_describe(doc)}: {problem}")
            bad += 1
    if not bad:
        say(f"{path}: valid ({', '.join(_describe(d) for d in docs)})")
    return bad


def render(
    filename: FileOption,
    profile_file: Annotated[
        Path | None, typer.Option("--profile-file", help="DesktopProfile YAML to use.")
    ] = None,
    registry: Annotated[
        str, typer.Option(help="Registry prefix of the built-in profiles' images.")
    ] = profiles.DEFAULT_REGISTRY,
    gateway_namespace: Annotated[
        str, typer.Option(help="Namespace of the gateway (NetworkPolicy ingress).")
    ] = Settings.gateway_namespace,
) -> None:
    """Print every object the operator would create for the course (Secrets redacted)."""
    docs = _load(filename)
    courses = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Course"]
    if len(courses) != 1:
        raise fail(f"{filename}: expected exactly one Course, found {len(courses)}", 1)
    problems = offline.check_document(courses[0])
    if problems:
        for problem in problems:
            info(f"{filename}: {problem}")
        raise fail(f"{filename}: not rendered: fix the problems above", 1)
    known = _profiles(profile_file, registry) + [
        d for d in docs if isinstance(d, dict) and d.get("kind") == "DesktopProfile"
    ]
    try:
        rendered = offline.render_course(courses[0], known, Settings(gateway_namespace))
    except LookupError as exc:
        raise fail(f"{filename}: {exc.args[0]}", 1) from None
    emit_documents(rendered.objects)


def _profiles(profile_file: Path | None, registry: str) -> list[dict[str, Any]]:
    if profile_file is None:
        return profiles.default_profiles(registry)
    docs = _load(profile_file)
    for doc in docs:
        problems = offline.check_document(doc)
        if problems:
            raise fail(f"{profile_file}: {problems[0]}", 1)
        if doc["kind"] != "DesktopProfile":
            raise fail(f"{profile_file}: {_describe(doc)}: expected only DesktopProfiles", 1)
    return docs


def _load(path: Path) -> list[Any]:
    try:
        return load_documents(path)
    except InputError as exc:
        raise fail(str(exc), 2) from None


def _describe(doc: Any) -> str:
    if not isinstance(doc, dict):
        return "document"
    meta = doc.get("metadata")
    name = meta.get("name", "?") if isinstance(meta, dict) else "?"
    return f"{doc.get('kind', '?')} {name}"
