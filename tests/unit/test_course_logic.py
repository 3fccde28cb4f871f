"""course_logic: which Seats to create, update or delete, and the course status."""

from __future__ import annotations

import dataclasses

from arcdesk.api import conditions, labels
from arcdesk.api.schedule import plan
from arcdesk.api.views import CourseView, OwnerRef, SeatView
from arcdesk.build.desired import Owner
from arcdesk.engine.course_logic import (
    CourseFacts,
    course_owner,
    course_status,
    desired_seats,
    desktop_inputs,
    seat_changes,
)
from arcdesk.engine.seat_logic import Problem, desktop_pod
from arcdesk.engine.state import Models
from tests.unit.builders import default_profile
from tests.unit.operator_builders import COURSE_UID, NOW, course, seat_owner, seat_view

OWNER = course_owner("bio", COURSE_UID)


def ready_seat(name: str, seat_id: str, **status: object) -> SeatView:
    return seat_view(name=name, seat_id=seat_id, status={
        "observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}],
        **status})


def test_desired_seats_follow_the_count_and_the_schedule() -> None:
    running = desired_seats(course({"count": 3}), plan(course(), NOW))
    assert sorted(running) == ["bio-seat-001", "bio-seat-002", "bio-seat-003"]
    assert {m["spec"]["state"] for m in running.values()} == {"Running"}
    suspended = course(suspend=True)
    assert {m["spec"]["state"] for m in desired_seats(
        suspended, plan(suspended, NOW).run).values()} == {"Stopped"}
    owner = running["bio-seat-001"]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("Course", COURSE_UID, True)


def test_a_scale_edit_does_not_change_what_desktops_are_made_from() -> None:
    spec = {"title": "Bio", "profile": "base", "seats": {"count": 2}}
    assert desktop_inputs(spec) == desktop_inputs({**spec, "seats": {"count": 900}})
    assert desktop_inputs(spec) != desktop_inputs({**spec, "resources": {"cpu": "2"}})
    assert desktop_inputs(spec) != desktop_inputs({**spec, "profile": "bioimage"})


def test_models_keep_only_the_latest_generation_of_a_course() -> None:
    models, made = Models(), []

    def make(course: object, run: bool) -> dict[str, object]:
        made.append(1)
        return {"seat": len(made)}

    def view(generation: int) -> CourseView:
        body = {"metadata": {"name": "bio", "namespace": "training", "uid": COURSE_UID,
                             "generation": generation},
                "spec": {"title": "Bio", "profile": "base", "seats": {"count": generation}}}
        return CourseView("training", "bio", COURSE_UID, generation, "base", {}, False, body, {})

    first = models.course(view(1))
    assert models.course(view(1)) is first
    slot = ("course", "training", "bio")
    assert models.renders.get(make, first, True, slot=slot) is \
        models.renders.get(make, first, True, slot=slot)
    assert len(made) == 1, "the same generation and run state renders its Seats once"
    second = models.course(view(2))
    assert len(second.trainees) == 2
    models.renders.get(make, second, True, slot=slot)
    models.renders.get(make, second, False, slot=slot)
    assert len(made) == 3, "a new generation or run state renders them again"
    assert models.course(view(1)) is not first, "an older generation is not kept"


def test_a_render_is_reused_only_while_every_input_is_the_same() -> None:
    """The cache key is every argument: a new profile version, another trainee or owner
    renders again, with nothing listed by hand."""
    models = Models()
    bio = course({"count": 2})
    base = default_profile("base")
    newer = default_profile("base")  # what Models parses for a new resourceVersion
    first, second = bio.trainees
    owner = seat_owner()
    pod = models.renders.get(desktop_pod, bio, base, first, owner)
    assert models.renders.get(desktop_pod, bio, base, first, owner) is pod
    assert models.renders.get(desktop_pod, bio, newer, first, owner) is not pod
    assert models.renders.get(desktop_pod, bio, base, second, owner) is not pod
    other = Owner(owner.api_version, owner.kind, owner.name, "another-uid")
    assert models.renders.get(desktop_pod, bio, base, first, other) is not pod


def test_seat_changes_create_update_and_delete_only_our_seats() -> None:
    bio = course({"roster": [{"id": "alice"}, {"id": "carol", "displayName": "Carol"}]})
    wanted = desired_seats(bio, plan(bio, NOW).run)
    alice = seat_view(name="bio-alice", seat_id="alice",
                      labels=wanted["bio-alice"]["metadata"]["labels"])
    carol = dataclasses.replace(alice, name="bio-carol", seat_id="carol",
                                labels=wanted["bio-carol"]["metadata"]["labels"])
    bob = dataclasses.replace(alice, name="bio-bob", seat_id="bob")
    someone_elses = dataclasses.replace(alice, name="bio-zed", owners=(
        OwnerRef(labels.API_VERSION, "Course", "other", "other-uid", True),))
    changes = seat_changes(wanted, [alice, carol, bob, someone_elses], OWNER)
    assert changes.create == []
    assert [m["metadata"]["name"] for m in changes.update] == ["bio-carol"]  # new name
    assert [s.name for s in changes.delete] == ["bio-bob"]


def test_a_foreign_seat_with_our_name_is_a_conflict() -> None:
    bio = course({"count": 1})
    foreign = seat_view(owners=(), labels={})
    changes = seat_changes(desired_seats(bio, plan(bio, NOW).run), [foreign], OWNER)
    assert changes.conflicts == ["bio-seat-001"] and not changes.delete


def _status(facts: CourseFacts) -> dict[str, object]:
    return course_status(facts, NOW, {})


def _condition(status: dict[str, object], type_: str) -> dict[str, object]:
    found = conditions.find(status["conditions"], type_)  # type: ignore[arg-type]
    assert found is not None
    return dict(found)


def test_all_seats_ready_is_a_running_ready_course() -> None:
    bio = course({"count": 2})
    seats = [ready_seat("bio-seat-001", "seat-001"), ready_seat("bio-seat-002", "seat-002")]
    status = _status(CourseFacts(bio, plan(bio, NOW), seats, profile_found=True))
    assert status["phase"] == "Running"
    assert status["seats"] == {"desired": 2, "ready": 2, "summary": "2/2"}
    assert status["selector"] == "arcdesk.dev/course=bio,app.kubernetes.io/component=seat"
    assert _condition(status, "Ready")["reason"] == "AllSeatsReady"
    assert status["observedGeneration"] == 3


def test_seats_just_changed_do_not_count_as_ready() -> None:
    bio = course({"count": 2})
    seats = [ready_seat("bio-seat-001", "seat-001"), ready_seat("bio-seat-002", "seat-002")]
    status = _status(CourseFacts(bio, plan(bio, NOW), seats, profile_found=True,
                                 unsettled=frozenset({"bio-seat-002"})))
    assert (status["phase"], status["seats"]["ready"]) == ("Provisioning", 1)  # type: ignore[index]


def test_the_most_common_seat_problem_degrades_the_course() -> None:
    bio = course({"count": 4})
    quota = {"conditions": [{"type": "Degraded", "status": "True",
                             "reason": "ResourceQuotaExceeded", "message": "exceeded quota"}]}
    seats = [ready_seat("bio-seat-001", "seat-001"), ready_seat("bio-seat-002", "seat-002"),
             seat_view(name="bio-seat-003", status={"observedGeneration": 1, **quota}),
             seat_view(name="bio-seat-004", status={"observedGeneration": 1, **quota})]
    status = _status(CourseFacts(bio, plan(bio, NOW), seats, profile_found=True))
    degraded = _condition(status, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "ResourceQuotaExceeded")
    assert degraded["message"] == "2 of 4 seats: exceeded quota"
    assert _condition(status, "Ready")["status"] == "False"


def test_a_missing_profile_matters_only_when_desktops_should_run() -> None:
    bio = course({"count": 1}, profile="gone")
    status = _status(CourseFacts(bio, plan(bio, NOW), [], profile_found=False))
    assert status["phase"] == "Pending"
    assert "DesktopProfile 'gone' not found" in str(_condition(status, "Degraded")["message"])
    later = course({"count": 1}, profile="gone", schedule={"start": "2027-01-01T00:00:00Z"})
    seats = [ready_seat("bio-seat-001", "seat-001")]
    status = _status(CourseFacts(later, plan(later, NOW), seats, profile_found=False))
    assert (status["phase"], _condition(status, "Degraded")["status"]) == ("Scheduled", "False")
    assert status["nextTransition"] == "2026-12-31T23:30:00Z"


def test_a_course_problem_comes_before_seat_problems() -> None:
    bio = course({"count": 1})
    facts = CourseFacts(bio, plan(bio, NOW), [], profile_found=True,
                        problems=[Problem(conditions.NAME_CONFLICT, "Seat bio-seat-001 exists")])
    assert _condition(_status(facts), "Degraded")["reason"] == "NameConflict"


def test_a_profile_deleted_under_running_desktops_degrades_but_keeps_them_ready() -> None:
    bio = course({"count": 1}, profile="gone")
    seats = [ready_seat("bio-seat-001", "seat-001")]
    status = _status(CourseFacts(bio, plan(bio, NOW), seats, profile_found=False))
    assert (status["phase"], _condition(status, "Ready")["status"]) == ("Running", "True")
    assert _condition(status, "Degraded")["reason"] == "ProfileNotFound"
