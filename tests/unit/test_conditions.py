"""conditions.merge: Ready/Progressing/Degraded with observedGeneration and stable times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from arcdesk.api import conditions
from arcdesk.api.conditions import Condition

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def test_merge_orders_types_and_stamps_generation_and_time() -> None:
    merged = conditions.merge(None, [
        Condition(conditions.DEGRADED, False, conditions.AS_EXPECTED),
        Condition(conditions.READY, True, conditions.DESKTOP_READY, "ready on kwok-0"),
        Condition(conditions.PROGRESSING, False, conditions.AS_EXPECTED),
    ], generation=4, now=T0)
    assert [c["type"] for c in merged] == ["Ready", "Progressing", "Degraded"]
    assert merged[0] == {"type": "Ready", "status": "True", "reason": "DesktopReady",
                         "message": "ready on kwok-0", "observedGeneration": 4,
                         "lastTransitionTime": "2026-12-01T09:00:00Z"}


def test_transition_time_changes_only_when_the_status_flips() -> None:
    first = conditions.merge(None, [Condition(conditions.READY, False, "Starting")], 1, T0)
    same = conditions.merge(first, [Condition(conditions.READY, False, "Unschedulable",
                                              "0/4 nodes")], 2, T1)
    flipped = conditions.merge(same, [Condition(conditions.READY, True, "DesktopReady")], 2, T1)
    assert same[0]["lastTransitionTime"] == "2026-12-01T09:00:00Z"
    assert (same[0]["reason"], same[0]["observedGeneration"]) == ("Unschedulable", 2)
    assert flipped[0]["lastTransitionTime"] == "2026-12-01T09:05:00Z"


def test_an_unchanged_status_merges_to_an_equal_list() -> None:
    wanted = [Condition(conditions.READY, True, "DesktopReady", "ok")]
    first = conditions.merge(None, wanted, 1, T0)
    assert conditions.merge(first, wanted, 1, T1) == first


def test_find_and_is_true() -> None:
    merged = conditions.merge(None, [Condition(conditions.READY, True, "DesktopReady"),
                                     Condition(conditions.DEGRADED, False, "AsExpected")], 1, T0)
    assert conditions.is_true(merged, conditions.READY)
    assert not conditions.is_true(merged, conditions.DEGRADED)
    assert not conditions.is_true(merged, conditions.PROGRESSING)
    assert conditions.find(None, conditions.READY) is None
