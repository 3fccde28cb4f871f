"""Pure offline checks and rendering of Course files (no cluster needed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from arcdesk.api import credentials
from arcdesk.api.labels import API_VERSION
from arcdesk.api.model import Course, Profile, parse_course, parse_profile
from arcdesk.api.resources import crd_schema
from arcdesk.api.settings import Settings
from arcdesk.api.validation import Problem, validate
from arcdesk.build import desired

KINDS = ("Course", "DesktopProfile", "Seat")
NAMESPACED = ("Course", "Seat")

# What the API server requires of a custom object's name and namespace (apimachinery).
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_SUBDOMAIN_HELP = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'bioimage-101')"
)
_LABEL_HELP = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'training')"
)


def check_document(doc: Any) -> list[Problem]:
    """Problems of one YAML document that should be an arcdesk object."""
    if not isinstance(doc, dict):
        return [Problem("(document)", "must be a mapping with apiVersion, kind, metadata, spec")]
    kind = doc.get("kind")
    if kind not in KINDS:
        supported = ", ".join(f'"{k}"' for k in KINDS)
        return [Problem("kind", f"Unsupported value: {kind!r}: supported values: {supported}")]
    problems = []
    if doc.get("apiVersion") != API_VERSION:
        got = doc.get("apiVersion")
        problems.append(Problem("apiVersion", f"must be {API_VERSION!r}, got {got!r}"))
    return problems + _check_metadata(doc, kind) + validate(doc, crd_schema(kind))


def _check_metadata(doc: dict[str, Any], kind: str) -> list[Problem]:
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        return [Problem("metadata.name", "Required value: give the object a name")]
    name, namespace = meta.get("name"), meta.get("namespace")
    if not name:
        return [Problem("metadata.name", "Required value: give the object a name")]
    problems = []
    if not isinstance(name, str) or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        problems.append(Problem("metadata.name", f'Invalid value: "{name}": {_SUBDOMAIN_HELP}'))
    if kind in NAMESPACED and namespace is not None and not _is_dns_label(namespace):
        shown = f'Invalid value: "{namespace}": {_LABEL_HELP}'
        problems.append(Problem("metadata.namespace", shown))
    return problems


def _is_dns_label(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 63 and bool(re.match(rf"^{_DNS_LABEL}$", value))


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
    """Every object of every seat (Secrets redacted), plus the course-level ones.

    Seats are shown as they are while the course runs; a suspended course has Stopped
    seats without Pod or Service (homes and Secrets stay). The schedule is not applied:
    what runs when is the operator's decision at that time.
    """
    course = parse_course(course_doc)
    profile = pick_profile(course, profiles)
    state = "Stopped" if course.suspend else "Running"
    objects = [
        desired.network_policy(course, settings, None),
        desired.instructor_secret(course, credentials.REDACTED.token, None),
    ]
    for trainee in course.trainees:
        objects.append(desired.seat(course, trainee, state, None))
        objects += desired.seat_children(
            course, profile, trainee, credentials.REDACTED, None, running=not course.suspend
        )
    return Rendered(course, profile, objects)
