"""Course: indexed, and every change queues the course for a reconcile."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk.api import labels, views
from arcdesk.engine import state


@kopf.index(labels.GROUP, labels.VERSION, "courses", id=state.COURSES)
async def course_index(body: kopf.Body, **_: Any) -> dict[tuple[str, ...], views.CourseView]:
    return state.course_keys(views.course_view(body))


@kopf.on.event(labels.GROUP, labels.VERSION, "courses")
async def course_event(namespace: str | None, name: str, memo: Any, **_: Any) -> None:
    memo.runtime.course_changed(namespace or "", name)
