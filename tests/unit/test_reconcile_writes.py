"""The reconcilers' write paths against an in-memory API server (FakeKube): what a course
makes, that a second pass writes nothing, and the create → 409 → GET → conflict,
recreate and requeue paths, which a real cluster shows only under races."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from arcdesk.api import conditions, labels
from arcdesk.engine.course_sync import reconcile_course
from arcdesk.engine.seat_logic import SPEC_HASH
from arcdesk.engine.seat_sync import reconcile_seat
from arcdesk.engine.state import Context, Outcome
from arcdesk.engine.writes import CLEANUP_RECHECK
from arcdesk.kube import ApiError
from tests.unit.fake_cluster import course_body, world

pytestmark = pytest.mark.unit
NS = "training"
SEAT_CHILDREN = ("Pod", "Service", "Secret", "PersistentVolumeClaim")


def run(ctx: Context, kind: str, name: str) -> Outcome:
    reconcile = reconcile_course if kind == "Course" else reconcile_seat
    return asyncio.run(reconcile(ctx, NS, name))


def settle(ctx: Context, course: str = "bio") -> None:
    """A course reconcile, then one of each of its seats, twice, as the work queue would
    with the watch events of what the first pass made."""
    for _ in range(2):
        run(ctx, "Course", course)
        for seat in ctx.caches.seats_of(NS, course):
            run(ctx, "Seat", seat.name)


def names(kube: Any, kind: str) -> list[str]:
    return [o["metadata"]["name"] for o in kube.of_kind(kind)]


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    return conditions.find((obj.get("status") or {}).get("conditions"), type_) or {}


def test_a_course_makes_its_seats_policy_and_instructor_secret_then_each_seat_its_desktop(
) -> None:
    ctx, kube, _ = world(course_body(count=2))
    settle(ctx)
    assert names(kube, "Seat") == ["bio-seat-001", "bio-seat-002"]
    assert names(kube, "NetworkPolicy") == ["bio-desktops"]
    assert "bio-instructor" in names(kube, "Secret")
    for kind in SEAT_CHILDREN:
        assert len(kube.of_kind(kind)) == 2 + (kind == "Secret"), kind
    pod = kube.find("Pod", NS, "bio-seat-001")
    seat = kube.find("Seat", NS, "bio-seat-001")
    assert pod is not None and seat is not None
    assert pod["metadata"]["ownerReferences"][0]["uid"] == seat["metadata"]["uid"]


def test_a_second_pass_over_a_settled_course_writes_nothing() -> None:
    ctx, kube, _ = world(course_body(count=2))
    settle(ctx)
    settle(ctx)
    kube.calls.clear()
    settle(ctx)
    assert kube.writes() == []


def test_a_taken_seat_name_is_a_conflict_and_the_other_object_is_left_alone() -> None:
    foreign = {"apiVersion": labels.API_VERSION, "kind": "Seat",
               "metadata": {"name": "bio-seat-001", "namespace": NS},
               "spec": {"course": "other", "id": "x", "state": "Running"}}
    ctx, kube, indices = world(course_body(count=1), foreign)
    stored = kube.find("Seat", NS, "bio-seat-001")
    indices.lagging.add(("Seat", NS, "bio-seat-001"))  # not ours, so not in our view yet
    run(ctx, "Course", "bio")
    course = kube.find("Course", NS, "bio")
    assert course is not None
    assert condition(course, conditions.DEGRADED).get("reason") == conditions.NAME_CONFLICT
    assert "bio-seat-001" in condition(course, conditions.DEGRADED)["message"]
    assert kube.find("Seat", NS, "bio-seat-001") == stored  # untouched


def test_create_409_for_our_own_object_the_index_has_not_seen_is_no_problem() -> None:
    ctx, kube, indices = world(course_body(count=1))
    settle(ctx)
    pod = kube.find("Pod", NS, "bio-seat-001")
    assert pod is not None
    indices.lagging.add(("Pod", NS, "bio-seat-001"))  # our create has not come back yet
    kube.calls.clear()
    run(ctx, "Seat", "bio-seat-001")
    assert ("create", "Pod", "bio-seat-001") in kube.calls
    assert ("get", "Pod", "bio-seat-001") in kube.calls
    assert kube.find("Pod", NS, "bio-seat-001") == pod  # one pod, unchanged
    seat = kube.find("Seat", NS, "bio-seat-001")
    assert seat is not None and condition(seat, conditions.DEGRADED).get("status") != "True"


def test_a_taken_name_deleted_meanwhile_is_tried_again_shortly() -> None:
    ctx, kube, indices = world(course_body(count=1))
    settle(ctx)
    indices.lagging.add(("Pod", NS, "bio-seat-001"))
    kube.fail("create", "Pod", 409, 'pods "bio-seat-001" already exists')
    del kube.objects[("Pod", NS, "bio-seat-001")]  # gone by the time we look
    outcome = run(ctx, "Seat", "bio-seat-001")
    assert kube.find("Pod", NS, "bio-seat-001") is None
    assert outcome.requeue_after is not None and outcome.requeue_after <= CLEANUP_RECHECK


def test_a_pod_that_is_not_ready_with_an_old_spec_is_recreated_by_uid() -> None:
    ctx, kube, _ = world(course_body(count=1))
    settle(ctx)
    old = kube.find("Pod", NS, "bio-seat-001")
    assert old is not None
    old["metadata"]["annotations"][SPEC_HASH] = "from-an-older-course"
    outcome = run(ctx, "Seat", "bio-seat-001")
    assert ("delete", "Pod", "bio-seat-001") in kube.calls
    assert kube.find("Pod", NS, "bio-seat-001") is None  # deleted; made again next time
    assert outcome.requeue_after is not None
    run(ctx, "Seat", "bio-seat-001")
    new = kube.find("Pod", NS, "bio-seat-001")
    assert new is not None and new["metadata"]["uid"] != old["metadata"]["uid"]


def test_scale_down_deletes_the_last_seat_by_uid_and_keeps_the_others() -> None:
    ctx, kube, _ = world(course_body(count=3))
    settle(ctx)
    kept = kube.find("Seat", NS, "bio-seat-001")
    asyncio.run(kube.merge_patch("Course", NS, "bio", {"spec": {"seats": {"count": 2}}}))
    settle(ctx)
    assert names(kube, "Seat") == ["bio-seat-001", "bio-seat-002"]
    assert ("delete", "Seat", "bio-seat-003") in kube.calls
    still = kube.find("Seat", NS, "bio-seat-001")
    assert kept is not None and still is not None
    assert still["metadata"]["uid"] == kept["metadata"]["uid"]
    assert kube.find("Pod", NS, "bio-seat-003") is None  # collected with its Seat


def test_a_quota_refusal_becomes_the_seats_condition_with_the_servers_numbers() -> None:
    ctx, kube, _ = world(course_body(count=1))
    run(ctx, "Course", "bio")
    message = ('pods "bio-seat-001" is forbidden: exceeded quota: desktops, requested: '
               "pods=1, used: pods=2, limited: pods=2")
    kube.fail("create", "Pod", 403, message)
    run(ctx, "Seat", "bio-seat-001")
    seat = kube.find("Seat", NS, "bio-seat-001")
    assert seat is not None
    assert kube.find("Pod", NS, "bio-seat-001") is None
    assert seat["status"]["reason"] == conditions.QUOTA_EXCEEDED
    assert "limited: pods=2" in seat["status"]["message"]


def test_a_transient_server_error_is_raised_for_a_retry_not_shown_to_anyone() -> None:
    ctx, kube, _ = world(course_body(count=1))
    run(ctx, "Course", "bio")
    kube.fail("create", "Pod", 503, "etcd leader changed")
    with pytest.raises(ApiError) as raised:
        run(ctx, "Seat", "bio-seat-001")
    assert raised.value.transient
    seat = kube.find("Seat", NS, "bio-seat-001")
    assert seat is not None and "etcd" not in str(seat.get("status"))
    run(ctx, "Seat", "bio-seat-001")  # the retry succeeds
    assert kube.find("Pod", NS, "bio-seat-001") is not None


def test_a_deleted_child_is_made_again_with_the_same_home() -> None:
    ctx, kube, _ = world(course_body(count=1))
    settle(ctx)
    claim = kube.find("PersistentVolumeClaim", NS, "bio-home-seat-001")
    secret = kube.find("Secret", NS, "bio-seat-001")
    asyncio.run(kube.delete("Service", NS, "bio-seat-001"))
    run(ctx, "Seat", "bio-seat-001")
    assert kube.find("Service", NS, "bio-seat-001") is not None
    assert kube.find("PersistentVolumeClaim", NS, "bio-home-seat-001") == claim
    assert kube.find("Secret", NS, "bio-seat-001") == secret  # the link still works


def test_a_reconcile_before_the_index_shows_our_new_pod_does_not_post_it_again() -> None:
    """A second POST would be refused 409 and, for a Pod, still be charged to the
    namespace's ResourceQuota until the quota controller recounts (seen on the devcluster:
    "used: pods=2" with one pod, and a seat refused that had room)."""
    ctx, kube, indices = world(course_body(count=1))
    run(ctx, "Course", "bio")
    for _ in range(3):
        if ("create", "Pod", "bio-seat-001") in kube.calls:
            break
        run(ctx, "Seat", "bio-seat-001")
    assert kube.find("Pod", NS, "bio-seat-001") is not None
    indices.lagging.add(("Pod", NS, "bio-seat-001"))  # its ADDED event is still on the way
    kube.calls.clear()
    run(ctx, "Seat", "bio-seat-001")
    assert ("create", "Pod", "bio-seat-001") not in kube.calls
