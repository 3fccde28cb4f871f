"""Pure: where a course is in its schedule at a given moment, and when that next changes.

Desktops boot ``prewarm`` before ``start`` and stop at ``end``; ``suspend`` stops them
in between. The operator sleeps until :attr:`Plan.next_transition` instead of polling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from arcdesk.api.model import Course

SCHEDULED = "Scheduled"  # before start - prewarm: only Seats, Secrets and PVCs exist
ACTIVE = "Active"  # desktops run
SUSPENDED = "Suspended"  # spec.suspend: desktops stopped, homes and links kept
ENDED = "Ended"  # after end: desktops stopped, homes kept


@dataclass(frozen=True)
class Plan:
    stage: str
    run: bool
    next_transition: datetime | None = None


def plan(course: Course, now: datetime) -> Plan:
    """The schedule's verdict for ``course`` at ``now`` (an aware datetime)."""
    start, end = course.schedule.start, course.schedule.end
    boot = start - course.schedule.prewarm if start is not None else None
    if end is not None and now >= end:
        return Plan(ENDED, run=False)
    if course.suspend:
        return Plan(SUSPENDED, run=False, next_transition=end)
    if boot is not None and now < boot:
        return Plan(SCHEDULED, run=False, next_transition=boot)
    return Plan(ACTIVE, run=True, next_transition=end)


def seconds_until(when: datetime | None, now: datetime) -> float | None:
    """Delay until ``when`` (never negative), or None when there is nothing to wait for."""
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())
