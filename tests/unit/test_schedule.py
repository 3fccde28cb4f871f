"""schedule.plan: Scheduled before start - prewarm, then Active, Ended after end;
suspend stops desktops in between; next_transition is when that verdict changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from arcdesk.api.schedule import ACTIVE, ENDED, SCHEDULED, SUSPENDED, plan, seconds_until
from tests.unit.operator_builders import course

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
END = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
BOOT = START - timedelta(minutes=30)
SCHEDULE = {"start": "2026-12-01T08:00:00Z", "end": "2026-12-03T17:00:00Z", "prewarm": "30m"}


@pytest.mark.parametrize(("now", "suspend", "stage", "run", "next_transition"), [
    (BOOT - timedelta(seconds=1), False, SCHEDULED, False, BOOT),
    (BOOT, False, ACTIVE, True, END),  # prewarm: desktops boot before the start
    (START + timedelta(hours=5), False, ACTIVE, True, END),
    (END, False, ENDED, False, None),
    (START, True, SUSPENDED, False, END),
    (BOOT - timedelta(days=1), True, SUSPENDED, False, END),
    (END + timedelta(days=1), True, ENDED, False, None),
])
def test_plan_follows_the_schedule(now: datetime, suspend: bool, stage: str, run: bool,
                                   next_transition: datetime | None) -> None:
    verdict = plan(course(schedule=SCHEDULE, suspend=suspend), now)
    assert (verdict.stage, verdict.run, verdict.next_transition) == (stage, run,
                                                                    next_transition)


def test_without_a_schedule_desktops_run_until_suspended() -> None:
    assert plan(course(), START).run is True
    assert plan(course(), START).next_transition is None
    assert plan(course(suspend=True), START).stage == SUSPENDED


def test_a_start_without_end_never_ends() -> None:
    verdict = plan(course(schedule={"start": "2026-12-01T08:00:00Z", "prewarm": "0s"}), END)
    assert (verdict.stage, verdict.next_transition) == (ACTIVE, None)


def test_seconds_until_is_never_negative() -> None:
    assert seconds_until(START, BOOT) == 1800.0
    assert seconds_until(BOOT, START) == 0.0
    assert seconds_until(None, START) is None
