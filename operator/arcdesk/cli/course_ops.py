"""What the `course` verbs do against the cluster, apart from options and printing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arcdesk.api import labels
from arcdesk.cli.files import InputError, load_documents
from arcdesk.cli.options import CommandError
from arcdesk.kube.blocking import Cluster
from arcdesk.kube.kinds import ALL_NAMESPACES, CLAIM, COURSE, EVENT, SEAT
from arcdesk.tasks import course_edits, summaries
from arcdesk.tasks.summaries import Progress

POLL_SECONDS = 1.0


def now() -> datetime:
    return datetime.now(UTC)


def load_courses(path: Path, namespace: str | None, default: str) -> list[dict[str, Any]]:
    """The Course objects of ``path``, each with its namespace settled as kubectl does."""
    courses = []
    for doc in load_documents(path):
        if not isinstance(doc, dict) or doc.get("kind") != "Course" or \
                doc.get("apiVersion") != labels.API_VERSION:
            what = doc.get("kind", "?") if isinstance(doc, dict) else type(doc).__name__
            raise InputError(f"{path}: expected Course objects ({labels.API_VERSION}), found "
                             f"{what}")
        meta = doc.setdefault("metadata", {})
        if not meta.get("name"):
            raise InputError(f"{path}: a Course has no metadata.name")
        given = meta.get("namespace")
        if namespace and given and given != namespace:
            raise InputError(f"{path}: course {meta['name']} is in namespace {given}, but "
                             f"--namespace is {namespace}")
        meta["namespace"] = given or namespace or default
        courses.append(doc)
    return courses


def seats_of(cluster: Cluster, name: str, namespace: str | None = None) -> list[dict[str, Any]]:
    """The course's Seats (by label, checked against spec.course)."""
    selector = labels.seats_selector(name)
    return [s for s in cluster.list(SEAT, namespace, selector)
            if (s.get("spec") or {}).get("course") == name]


def list_rows(cluster: Cluster, all_namespaces: bool) -> list[dict[str, Any]]:
    found = cluster.list(COURSE, ALL_NAMESPACES if all_namespaces else None)
    at = now()
    rows = [summaries.course_row(c, at) for c in found]
    return sorted(rows, key=lambda r: (str(r["namespace"]), str(r["name"])))


def show(cluster: Cluster, name: str) -> dict[str, Any]:
    course = cluster.get(COURSE, name)
    events = cluster.list(EVENT, field_selector=f"involvedObject.kind=Course,"
                                                f"involvedObject.name={name}")
    return summaries.course_detail(course, seats_of(cluster, name), events, now())


def scale(cluster: Cluster, name: str, seats: int) -> None:
    course = cluster.get(COURSE, name)
    cluster.patch(COURSE, name, course_edits.scale(course.get("spec") or {}, name, seats),
                  subresource="scale")


def extend(cluster: Cluster, name: str, until: str | None, by: str | None) -> str:
    """Move the end; returns the new end."""
    change = course_edits.extension(until, by)
    course = cluster.get(COURSE, name)
    patch = course_edits.extend(course.get("spec") or {}, change, now())
    cluster.patch(COURSE, name, patch)
    return str(patch["spec"]["schedule"]["end"])


def set_suspend(cluster: Cluster, name: str, flag: bool) -> None:
    cluster.patch(COURSE, name, course_edits.suspend(flag))


def end(cluster: Cluster, name: str) -> str:
    course = cluster.get(COURSE, name)
    patch = course_edits.end(course.get("spec") or {}, now())
    cluster.patch(COURSE, name, patch)
    return str(patch["spec"]["schedule"]["end"])


def delete(cluster: Cluster, name: str) -> int:
    """Delete the course; returns how many home volumes stay (reclaimPolicy Retain)."""
    course = cluster.get(COURSE, name)
    cluster.delete(COURSE, name)
    policy = ((course.get("spec") or {}).get("storage") or {}).get("reclaimPolicy", "Retain")
    if policy != "Retain":
        return 0
    selector = f"{labels.course_selector(name)},{labels.COMPONENT}={labels.HOME_COMPONENT}"
    return len(cluster.list(CLAIM, selector=selector))


def wait_ready(cluster: Cluster, name: str, namespace: str | None, timeout: float,
               report: Callable[[Progress], None]) -> Progress:
    """Poll the course until it is Ready for its latest spec; CommandError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        state = summaries.progress(cluster.get(COURSE, name, namespace))
        report(state)
        if state.done:
            return state
        if time.monotonic() >= deadline:
            why = f" ({state.message})" if state.message else ""
            raise CommandError(f"timed out after {timeout:.0f}s waiting for course {name}: "
                               f"{state.ready}/{state.desired} seats ready{why}; see "
                               f"`arcdesk course show {name}`")
        time.sleep(POLL_SECONDS)
