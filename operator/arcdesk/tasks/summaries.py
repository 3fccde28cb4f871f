"""Pure: what the CLI shows about Courses, Seats, Events and DesktopProfiles.

Each function takes API objects (dicts as the server sends them) and returns plain rows or
one nested dict, ready for the printer in any format. Nothing here reads a Secret.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arcdesk.api import conditions
from arcdesk.api.model import parse_time

COURSE_COLUMNS = ("name", "title", "profile", "seats", "phase", "ready", "start", "end", "age")
SEAT_COLUMNS = ("seat", "trainee", "phase", "ready", "node", "idle", "message")
PROFILE_COLUMNS = ("name", "display", "image", "cpu", "memory", "gpu", "apps", "age")


def age(timestamp: str | None, now: datetime) -> str:
    """How long ago ``timestamp`` was, as kubectl prints it (45s, 12m, 3h, 2d)."""
    if not timestamp:
        return ""
    seconds = max(0, int((now - parse_time(timestamp)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _ready(status: Mapping[str, Any]) -> str:
    found = conditions.find(status.get("conditions"), conditions.READY)
    return str(found.get("status", "Unknown")) if found else "Unknown"


def course_row(obj: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    schedule = spec.get("schedule") or {}
    seats = status.get("seats") or {}
    desired = seats.get("desired", len(spec.get("seats", {}).get("roster", [])) or
                        spec.get("seats", {}).get("count", 0))
    return {
        "name": _meta(obj).get("name"),
        "namespace": _meta(obj).get("namespace"),
        "title": spec.get("title", ""),
        "profile": spec.get("profile", ""),
        "seats": f"{seats.get('ready', 0)}/{desired}",
        "phase": status.get("phase") or "Pending",
        "ready": _ready(status),
        "start": schedule.get("start", ""),
        "end": schedule.get("end", ""),
        "age": age(_meta(obj).get("creationTimestamp"), now),
    }


def course_detail(obj: Mapping[str, Any], seats: Sequence[Mapping[str, Any]],
                  events: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    """Everything `course show` prints: status, conditions, seats by phase, schedule, events."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    counts = status.get("seats") or {}
    phases = Counter(str((s.get("status") or {}).get("phase") or "Pending") for s in seats)
    return {
        "name": _meta(obj).get("name"),
        "namespace": _meta(obj).get("namespace"),
        "title": spec.get("title", ""),
        "profile": spec.get("profile", ""),
        "phase": status.get("phase") or "Pending",
        "ready": _ready(status),
        "suspend": bool(spec.get("suspend", False)),
        "seats": {"desired": counts.get("desired", len(seats)), "ready": counts.get("ready", 0),
                  "byPhase": dict(sorted(phases.items()))},
        "schedule": schedule(spec, status),
        "images": _images(status),
        "conditions": [{"type": c.get("type"), "status": c.get("status"),
                        "reason": c.get("reason", ""), "message": c.get("message", ""),
                        "age": age(c.get("lastTransitionTime"), now)}
                       for c in status.get("conditions") or []],
        "events": recent_events(events, now),
    }


def _images(status: Mapping[str, Any]) -> str:
    """The pre-pull as `course show` says it: nodes holding the image of those eligible."""
    found = status.get("images")
    if not found:
        return "not pre-pulling"
    return f"{found.get('ready', 0)}/{found.get('eligible', 0)} nodes hold {found.get('image')}"


def schedule(spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    """Start, end and prewarm as given, and when the operator next changes what runs."""
    shown = {k: v for k, v in (spec.get("schedule") or {}).items() if v}
    if "start" not in shown:
        shown.pop("prewarm", None)  # only meaningful before a start
    if status.get("nextTransition"):
        shown["nextTransition"] = status["nextTransition"]
    return shown


def recent_events(events: Sequence[Mapping[str, Any]], now: datetime,
                  limit: int = 10) -> list[dict[str, Any]]:
    """The newest ``limit`` events, oldest first, as kubectl describe lists them."""
    def when(event: Mapping[str, Any]) -> str:
        return str(event.get("lastTimestamp") or event.get("eventTime")
                   or _meta(event).get("creationTimestamp") or "")

    newest = sorted(events, key=when)[-limit:]
    return [{"type": e.get("type", ""), "reason": e.get("reason", ""),
             "age": age(when(e) or None, now), "message": e.get("message", "")}
            for e in newest]


def seat_order(course: Mapping[str, Any], seats: Sequence[Mapping[str, Any]],
               ) -> list[Mapping[str, Any]]:
    """The course's Seats in roster (or seat number) order; others after, by name."""
    roster = [r.get("id") for r in (course.get("spec") or {}).get("seats", {}).get("roster", [])]
    rank = {seat_id: i for i, seat_id in enumerate(roster)}
    return sorted(seats, key=lambda s: (rank.get((s.get("spec") or {}).get("id"), len(rank)),
                                        str(_meta(s).get("name"))))


def seat_row(seat: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    spec, status = seat.get("spec") or {}, seat.get("status") or {}
    return {
        "seat": spec.get("id", ""),
        "trainee": spec.get("displayName", ""),
        "phase": status.get("phase") or "Pending",
        "ready": _ready(status),
        "node": status.get("node", ""),
        "idle": idle(status, now),
        "message": status.get("message", ""),
    }


def idle(status: Mapping[str, Any], now: datetime) -> str:
    """Time since the last keyboard or mouse input, or why there is none to show."""
    if status.get("idleStopped"):
        return "stopped (idle)"
    return age(status.get("lastActivity"), now)


def profile_row(obj: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    resources = spec.get("resources") or {}
    return {
        "name": _meta(obj).get("name"),
        "display": spec.get("displayName", ""),
        "image": spec.get("image", ""),
        "cpu": str(resources.get("cpu", "1")),
        "memory": str(resources.get("memory", "2Gi")),
        "gpu": bool(spec.get("gpu", False)),
        "apps": ", ".join(str(a.get("name")) for a in spec.get("apps") or []),
        "age": age(_meta(obj).get("creationTimestamp"), now),
    }


def profile_detail(obj: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    row = profile_row(obj, now)
    return {
        **{k: v for k, v in row.items() if k != "apps"},
        "description": spec.get("description", ""),
        "imagePullPolicy": spec.get("imagePullPolicy", "IfNotPresent"),
        "nodeSelector": dict(spec.get("nodeSelector") or {}),
        "tolerations": [dict(t) for t in spec.get("tolerations") or []],
        "priorityClassName": spec.get("priorityClassName", ""),
        "apps": [{"name": a.get("name"), "exec": a.get("exec")} for a in spec.get("apps") or []],
        "datasets": [dict(d) for d in spec.get("datasets") or []],
        "env": [{"name": e.get("name"), "value": e.get("value")} for e in spec.get("env") or []],
    }


@dataclass(frozen=True)
class Progress:
    """How far a course is towards ready, for `--wait`."""

    ready: int
    desired: int
    done: bool
    message: str


def progress(obj: Mapping[str, Any]) -> Progress:
    """Done when the operator has seen the latest spec and says the course is Ready."""
    status = obj.get("status") or {}
    seats = status.get("seats") or {}
    generation = int(_meta(obj).get("generation") or 0)
    found = conditions.find(status.get("conditions"), conditions.READY) or {}
    current = int(status.get("observedGeneration") or 0) >= generation and \
        int(found.get("observedGeneration") or 0) >= generation
    degraded = conditions.find(status.get("conditions"), conditions.DEGRADED) or {}
    message = str(degraded.get("message") or found.get("message") or "") \
        if degraded.get("status") == "True" else str(found.get("message") or "")
    return Progress(ready=int(seats.get("ready") or 0), desired=int(seats.get("desired") or 0),
                    done=current and found.get("status") == "True", message=message)
