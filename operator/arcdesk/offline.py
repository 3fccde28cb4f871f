"""Pure offline checks and rendering of Course files (no cluster needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arcdesk import credentials, desired
from arcdesk.labels import API_VERSION
from arcdesk.model import Course, Profile, parse_course, parse_profile
from arcdesk.resources import crd_schema
from arcdesk.settings import Settings
from arcdesk.validation import Problem, validate

KINDS = ("Course", "DesktopProfile", "Seat")


def check_document(doc: Any) -> list[Problem]:
    """Problems of one YAML document that should be an arcdesk object."""
    if not isinstance(doc, dict):
        return [Problem("(document)", "must be a mapping with apiVersion, kind, metadata, spec")]
    kind = doc.get("kind")
    if kind not in KINDS:
        return [Problem("kind", f"Unsupported value: {kind!r}: supported values: {', '.join(KINDS)}")]
    problems = []
    if doc.get("apiVersion") != API_VERSION:
        problems.append(Problem("apiVersion", f"must be {API_VERSION!r}, got {doc.get('apiVersion')!r}"))
    name = doc.get("metadata", {}).get("name") if isinstance(doc.get("metadata"), dict) else None
    if not name:
        problems.append(Problem("metadata.name", "Required value: give the object a name"))
    return problems + validate(doc, crd_schema(kind))


@dataclass(frozen=True)
class Rendered:
    course: Course
    profile: Profile
    objects: list[dict[str, Any]]


def pick_profile(course: Course, profiles: list[dict[str, Any]]) -> Profile:
    """The profile the course names, among ``profiles``; LookupError names the fix."""
    for doc in profiles:
        if doc.get("metadata", {}).get("name") == course.profile:
            return parse_profile(doc)
    known = ", ".join(sorted(d["metadata"]["name"] for d in profiles)) or "none"
    raise LookupError(
        f"spec.profile: DesktopProfile {course.profile!r} not found (known: {known}); "
        "pass --profile-file or use a known profile"
    )


def render_course(
    course_doc: dict[str, Any], profiles: list[dict[str, Any]], settings: Settings
) -> Rendered:
    """Every object of every seat (Secrets redacted), plus the course-level ones."""
    course = parse_course(course_doc)
    profile = pick_profile(course, profiles)
    objects = [
        desired.network_policy(course, settings, None),
        desired.instructor_secret(course, credentials.REDACTED.token, None),
    ]
    for trainee in course.trainees:
        objects.append(desired.seat(course, trainee, "Running", None))
        objects += desired.seat_children(course, profile, trainee, credentials.REDACTED, None)
    return Rendered(course, profile, objects)
