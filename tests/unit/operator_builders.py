"""Inputs for the unit tests of the operator's pure modules: courses and object views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arcdesk.api import labels
from arcdesk.api.model import Course, parse_course
from arcdesk.api.views import ObjectView, OwnerRef, PodState, SeatView
from arcdesk.build.desired import Owner

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COURSE_UID = "c0000000-0000-4000-8000-000000000001"
SEAT_UID = "50000000-0000-4000-8000-000000000001"


def course(seats: dict[str, Any] | None = None, **spec: Any) -> Course:
    return parse_course({
        "metadata": {"name": "bio", "namespace": "training", "uid": COURSE_UID,
                     "generation": 3},
        "spec": {"title": "Bio", "profile": "base", "seats": seats or {"count": 2}, **spec},
    })


def seat_owner() -> Owner:
    return Owner(labels.API_VERSION, "Seat", "bio-seat-001", SEAT_UID)


def owned_by(owner: Owner) -> tuple[OwnerRef, ...]:
    return (OwnerRef(owner.api_version, owner.kind, owner.name, owner.uid, controller=True),)


def child(kind: str, name: str, **fields: Any) -> ObjectView:
    """A view of an object the seat owns, with the labels arcdesk gives it."""
    defaults: dict[str, Any] = {
        "labels": labels.seat_labels("bio", "seat-001", "desktop"),
        "owners": owned_by(seat_owner()), "ours": True, "created": "2026-12-01T08:00:00Z"}
    return ObjectView(kind=kind, namespace="training", name=name, uid=f"uid-{name}",
                      **{**defaults, **fields})


def ready_pod(**fields: Any) -> ObjectView:
    return child("Pod", "bio-seat-001",
                 pod=PodState(phase="Running", node="kwok-0", ip="10.0.0.1", ready=True),
                 **fields)


def seat_view(state: str = "Running", status: dict[str, Any] | None = None,
              generation: int = 1, **fields: Any) -> SeatView:
    owner = Owner(labels.API_VERSION, "Course", "bio", COURSE_UID)
    defaults: dict[str, Any] = {
        "name": "bio-seat-001", "seat_id": "seat-001", "display_name": "",
        "labels": labels.seat_labels("bio", "seat-001", "seat"), "owners": owned_by(owner)}
    return SeatView(namespace="training", uid=SEAT_UID, generation=generation, course="bio",
                    state=state, status=status or {}, **{**defaults, **fields})
