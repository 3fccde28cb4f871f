"""Pure: the changes instructor verbs make to a Course, as JSON merge patches.

`suspend`/`resume` flip ``spec.suspend``; `extend` and `end` move ``spec.schedule.end``
(the operator stops desktops at the end and keeps homes); `scale` changes the seat count of
a course with anonymous seats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arcdesk.api.model import format_time, parse_duration


class EditError(ValueError):
    """An edit that cannot be made; the message says what to do instead."""


class UsageProblem(EditError):
    """The options themselves are wrong (a usage error, exit 2)."""


def timestamp(when: datetime) -> str:
    return format_time(when)


def parse_when(text: str) -> datetime:
    """RFC 3339 (``2026-12-03T17:00:00Z``) or a local ``2026-12-03 17:00``."""
    try:
        parsed = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        raise UsageProblem(f"--until {text!r} is not a time like 2026-12-03T17:00:00Z or "
                        "'2026-12-03 17:00' (local time)") from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def parse_by(text: str) -> timedelta:
    """A duration such as 30m, 2h or 1h30m; ``d`` days are allowed too (1d = 24h)."""
    days, _, rest = text.partition("d") if "d" in text else ("", "", text)
    try:
        extra = timedelta(days=int(days)) if days else timedelta()
        return extra + (parse_duration(rest) if rest else timedelta())
    except ValueError:
        raise UsageProblem(f"--by {text!r} is not a duration like 30m, 2h, 1h30m or 1d") from None


def suspend(flag: bool) -> dict[str, Any]:
    return {"spec": {"suspend": flag}}


def scale(spec: Mapping[str, Any], name: str, seats: int) -> dict[str, Any]:
    """The scale subresource body; a roster course is scaled by editing its roster."""
    roster = (spec.get("seats") or {}).get("roster")
    if roster is not None:
        raise EditError(f"course {name} has a roster of {len(roster)} named trainees: add or "
                        "remove trainees in its file and run `arcdesk course apply -f FILE`")
    return {"spec": {"replicas": seats}}


@dataclass(frozen=True)
class Extension:
    """A new end (``until``) or an extra duration (``by``), exactly one of them."""

    until: datetime | None = None
    by: timedelta | None = None


def extension(until: str | None, by: str | None) -> Extension:
    """Parse --until/--by before anything is asked of the cluster (usage errors first)."""
    if (until is None) == (by is None):
        raise UsageProblem("give exactly one of --until TIME or --by DURATION")
    return Extension(parse_when(until)) if until is not None else Extension(by=parse_by(by or ""))


def extend(spec: Mapping[str, Any], change: Extension, now: datetime) -> dict[str, Any]:
    """Move the end to ``until``, or ``by`` later than the current end (or than now, if the
    course has already ended)."""
    schedule = spec.get("schedule") or {}
    if change.until is not None:
        end = change.until
    else:
        current = schedule.get("end")
        if not current:
            raise EditError("the course has no end time, so it runs until ended or deleted: "
                            "use --until TIME to give it one")
        end = max(parse_when(current), now) + (change.by or timedelta())
    if end <= now:
        raise EditError(f"the new end {timestamp(end)} is in the past: to stop the course now "
                        "use `arcdesk course end`")
    if "start" in schedule and end <= parse_when(schedule["start"]):
        raise EditError(f"the new end {timestamp(end)} is not after the course start "
                        f"{schedule['start']}")
    return {"spec": {"schedule": {"end": timestamp(end)}}}


def end(spec: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """End now: desktops stop, homes and links stay; a start still ahead is dropped."""
    schedule = spec.get("schedule") or {}
    change: dict[str, Any] = {"end": timestamp(now)}
    if "start" in schedule and parse_when(schedule["start"]) >= now:
        change["start"] = None
    return {"spec": {"schedule": change}}
