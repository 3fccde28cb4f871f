"""seat_logic: ownership, what to do with each child, when a desktop runs, and the
status a user sees."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from arcdesk.api import conditions, labels
from arcdesk.api.credentials import REDACTED
from arcdesk.api.schedule import plan
from arcdesk.api.views import ClaimState, ObjectView, OwnerRef, PodState
from arcdesk.build import desired
from arcdesk.engine.seat_logic import (
    FOREIGN,
    OURS,
    SPEC_HASH,
    STALE,
    Action,
    Observed,
    Problem,
    RunDecision,
    child_action,
    decide_run,
    home_storage_problem,
    home_wait,
    idle_deadline,
    is_subset,
    ownership,
    pod_action,
    seat_status,
    transition_events,
    with_spec_hash,
)
from tests.unit.builders import default_profile
from tests.unit.operator_builders import NOW, child, course, ready_pod, seat_owner

BIO = course()
TRAINEE = BIO.trainees[0]
OWNER = seat_owner()


def service() -> desired.Manifest:
    return desired.service(BIO, TRAINEE, OWNER)


def test_is_subset_allows_server_defaults_but_not_changes() -> None:
    want = {"ports": [{"port": 6080, "protocol": "TCP"}], "type": "ClusterIP"}
    have = {"ports": [{"port": 6080, "protocol": "TCP", "targetPort": 6080}],
            "type": "ClusterIP", "clusterIP": "10.0.0.1"}
    assert is_subset(want, have)
    assert not is_subset(want, {**have, "type": "NodePort"})
    assert not is_subset(want, {**have, "ports": [*have["ports"], {"port": 22}]})


@pytest.mark.parametrize(("owners", "ours", "expected"), [
    ((OwnerRef(OWNER.api_version, "Seat", OWNER.name, OWNER.uid, True),), False, OURS),
    ((OwnerRef(OWNER.api_version, "Seat", OWNER.name, "older-seat", True),), False, STALE),
    ((OwnerRef("apps/v1", "Deployment", "web", "d", True),), True, FOREIGN),
    ((), True, OURS),  # a kept home: ownerless, made by arcdesk
    ((), False, FOREIGN),
])
def test_ownership(owners: tuple[OwnerRef, ...], ours: bool, expected: str) -> None:
    view = child("Service", "bio-seat-001", owners=owners, ours=ours, labels={"team": "x"})
    assert ownership(view, OWNER, {labels.MANAGED_BY: labels.MANAGER}) == expected


def test_child_actions() -> None:
    want = service()
    same = child("Service", "bio-seat-001", labels=want["metadata"]["labels"],
                 spec={**want["spec"], "clusterIP": "10.0.0.9"})
    assert child_action(want, None, OWNER) is Action.CREATE
    assert child_action(want, same, OWNER, compare_spec=True) is Action.KEEP
    edited = dataclasses.replace(same, spec={**same.spec, "type": "NodePort"})
    assert child_action(want, edited, OWNER, compare_spec=True) is Action.UPDATE
    relabelled = dataclasses.replace(same, labels={**same.labels, labels.SEAT: "other"})
    assert child_action(want, relabelled, OWNER) is Action.UPDATE
    foreign = dataclasses.replace(same, owners=(), ours=False, labels={"team": "web"})
    assert child_action(want, foreign, OWNER) is Action.CONFLICT
    going = dataclasses.replace(same, deleting=True)
    assert child_action(want, going, OWNER) is Action.WAIT


def test_a_pod_with_an_older_spec_is_replaced_only_while_not_ready() -> None:
    want = with_spec_hash(desired.pod(BIO, default_profile("base"), TRAINEE, OWNER))
    labels_ = want["metadata"]["labels"]
    current = ready_pod(labels=labels_, annotations={SPEC_HASH: want["metadata"][
        "annotations"][SPEC_HASH]})
    assert pod_action(want, current, OWNER)[:2] == (Action.KEEP, False)

    older = ready_pod(labels=labels_, annotations={SPEC_HASH: "old"})
    action, pending, manifest = pod_action(want, older, OWNER)
    assert (action, pending) == (Action.KEEP, True)
    assert manifest["metadata"]["annotations"][SPEC_HASH] == "old"  # stays visible as pending

    stuck = dataclasses.replace(older, pod=PodState(phase="Pending", problem="ImagePullBackOff"))
    assert pod_action(want, stuck, OWNER)[:2] == (Action.RECREATE, False)


def test_the_secret_manifest_never_carries_values_to_a_metadata_repair() -> None:
    want = desired.secret(BIO, TRAINEE, REDACTED, OWNER, generation=3)
    assert want["metadata"]["annotations"] == {labels.SECRET_GENERATION: "3"}


IDLE = course(idle={"timeout": "2h"})


def test_idle_deadline_counts_from_the_last_activity_or_pod_creation() -> None:
    pod = ready_pod(created="2026-12-01T06:00:00Z")
    assert idle_deadline(IDLE, {}, pod) == NOW - timedelta(hours=1)
    reported = {"lastActivity": "2026-12-01T08:30:00Z"}
    assert idle_deadline(IDLE, reported, pod) == NOW + timedelta(hours=1, minutes=30)
    assert idle_deadline(IDLE, {}, dataclasses.replace(pod, deleting=True)) is None
    assert idle_deadline(course(), {}, pod) is None  # no idle timeout: never


def test_idle_never_counts_before_the_course_starts() -> None:
    prewarmed = course(idle={"timeout": "5m"}, schedule={"start": "2026-12-01T10:00:00Z"})
    pod = ready_pod(created="2026-12-01T08:00:00Z")
    assert idle_deadline(prewarmed, {}, pod) == NOW + timedelta(hours=1, minutes=5)


def test_decide_run() -> None:
    pod = ready_pod(created="2026-12-01T06:00:00Z")
    active = plan(IDLE, NOW)
    assert decide_run("Running", {}, IDLE, active, pod, NOW) == RunDecision(
        False, conditions.IDLE, idle_stop=True, idle_stopped=True)
    woken = decide_run("Running", {"idleStopped": True}, IDLE, active, None, NOW,
                       start_requested=True)
    assert woken == RunDecision(True)
    asleep = decide_run("Running", {"idleStopped": True}, IDLE, active, None, NOW)
    assert (asleep.run, asleep.why_stopped) == (False, conditions.IDLE)
    fresh = decide_run("Running", {"lastActivity": "2026-12-01T08:59:00Z"}, IDLE, active,
                       pod, NOW)
    # Running, and the operator wakes up again when the deadline passes (in 1h59m).
    assert (fresh.run, fresh.requeue_after) == (True, 7140.0)
    suspended = plan(course(suspend=True), NOW)
    assert decide_run("Stopped", {}, IDLE, suspended, pod, NOW).why_stopped == "Suspended"


def _status(observed: Observed) -> dict[str, object]:
    return seat_status(observed, generation=2, now=NOW, previous={})


def test_status_of_a_running_seat() -> None:
    status = _status(Observed(RunDecision(True), ready_pod(), prepared=True, started=True))
    assert (status["phase"], status["reason"], status["node"], status["podIP"]) == (
        "Running", "DesktopReady", "kwok-0", "10.0.0.1")
    assert status["lastActivity"] == "2026-12-01T09:00:00Z"  # its idle clock starts now
    by_type = {c["type"]: c for c in status["conditions"]}  # type: ignore[attr-defined]
    assert [by_type[t]["status"] for t in ("Ready", "Progressing", "Degraded")] == [
        "True", "False", "False"]
    assert {c["observedGeneration"] for c in by_type.values()} == {2}


@pytest.mark.parametrize(("observed", "phase", "reason", "ready"), [
    (Observed(RunDecision(True), None, prepared=True), "Starting", "Starting", False),
    (Observed(RunDecision(False, conditions.SCHEDULED), None, prepared=True,
              starts_at=NOW), "Scheduled", "Scheduled", True),
    (Observed(RunDecision(False, conditions.SCHEDULED), None, prepared=False),
     "Scheduled", "Scheduled", False),
    (Observed(RunDecision(False, conditions.IDLE, idle_stopped=True), None, prepared=True),
     "Stopped", "Idle", True),
    (Observed(RunDecision(False, conditions.SUSPENDED), ready_pod(), prepared=True),
     "Stopped", "Stopping", False),
    (Observed(RunDecision(True), None, prepared=True,
              problem=Problem(conditions.QUOTA_EXCEEDED, "exceeded quota")),
     "Pending", "ResourceQuotaExceeded", False),
    (Observed(RunDecision(True), None, prepared=True,
              problem=Problem(conditions.NAME_CONFLICT, "Service x exists")),
     "Failed", "NameConflict", False),
])
def test_status_phases(observed: Observed, phase: str, reason: str, ready: bool) -> None:
    status = _status(observed)
    ready_condition = status["conditions"][0]  # type: ignore[index]
    assert (status["phase"], status["reason"], ready_condition["status"]) == (
        phase, reason, "True" if ready else "False")
    degraded = status["conditions"][2]  # type: ignore[index]
    assert (degraded["status"] == "True") == (observed.problem is not None)


def claim_created(seconds_ago: float, phase: str = "Pending",
                  storage_class: str = "fast") -> ObjectView:
    created = (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return child("PersistentVolumeClaim", "bio-seat-001-home", created=created,
                 claim=ClaimState(phase=phase, storage_class=storage_class))


@pytest.mark.parametrize(("claim", "mode", "wait"), [
    (None, None, 30.0),  # just created: the claim's first watch event brings the seat back
    (claim_created(10), "Immediate", 20.0),  # the scheduler would back off from the pod
    (claim_created(10, "Bound"), "Immediate", None),
    (claim_created(10), "WaitForFirstConsumer", None),  # binds only once a pod uses it
    (claim_created(10), None, None),  # a class the operator cannot see is not waited for
    (claim_created(45), "Immediate", None),  # never bound: the pod shows the scheduler's why
])
def test_a_new_desktop_pod_waits_only_for_a_home_that_binds_immediately(
        claim: ObjectView | None, mode: str | None, wait: float | None) -> None:
    assert home_wait(claim, mode, NOW) == wait


@pytest.mark.parametrize(("claim", "mode", "default", "reason", "recheck"), [
    (claim_created(45), None, True, conditions.STORAGE_CLASS_NOT_FOUND, None),
    (claim_created(10), None, True, None, 20.0),  # a volume made by hand may still bind it
    (claim_created(45), "Immediate", False, None, None),  # the class exists
    (claim_created(45, "Bound"), None, False, None, None),
    (claim_created(45, storage_class=""), None, False, conditions.NO_DEFAULT_STORAGE_CLASS,
     None),
    (claim_created(45, storage_class=""), None, True, None, None),  # the default is assigned
    (None, None, False, None, None),
])
def test_a_home_whose_storage_class_cannot_bind_it_is_reported_after_the_grace(
        claim: ObjectView | None, mode: str | None, default: bool, reason: str | None,
        recheck: float | None) -> None:
    problem, again = home_storage_problem(claim, mode, default, NOW)
    assert (problem.reason if problem else None, again) == (reason, recheck)
    if problem is not None:
        assert "bio-seat-001-home" in problem.message
        assert "spec.storage.storageClassName" in problem.message
        assert "kubectl get storageclass" in problem.message
        assert not problem.retry  # the claim's watch event (bound, once fixed) brings it back


def test_a_running_desktop_whose_pod_went_away_says_so_until_it_is_back() -> None:
    running = _status(Observed(RunDecision(True), ready_pod(), prepared=True))
    gone = Observed(RunDecision(True), None, prepared=True, started=True)
    lost = seat_status(gone, 2, NOW, running)
    assert (lost["phase"], lost["message"]) == (
        "Starting", "desktop is starting again: its pod on node kwok-0 went away")
    assert transition_events(running, lost, gone) == [("Warning", "DesktopLost",
                                                        lost["message"])]
    evicted = dataclasses.replace(ready_pod(), deleting=True)  # e.g. PodGC's delete seen first
    assert seat_status(Observed(RunDecision(True), evicted, prepared=True), 2, NOW,
                       running)["message"] == lost["message"]
    failed = child("Pod", "bio-seat-001", pod=PodState(phase="Failed", node="kwok-0"))
    marked = seat_status(Observed(RunDecision(True), failed, prepared=True, problem=Problem(
        conditions.DESKTOP_FAILED, "PodGC: node no longer exists")), 2, NOW, running)
    assert (marked["phase"], marked["message"]) == ("Starting", lost["message"])
    assert marked["conditions"][2]["status"] == "False"  # type: ignore[index]
    elsewhere = child("Pod", "bio-seat-001",
                      pod=PodState(phase="Pending", node="kwok-1", ready=False))
    starting = seat_status(Observed(RunDecision(True), elsewhere, prepared=True), 2, NOW, lost)
    assert starting["message"] == lost["message"]  # kept while the new pod starts
    back = seat_status(Observed(RunDecision(True), ready_pod(), prepared=True), 2, NOW,
                       starting)
    assert back["reason"] == "DesktopReady"
    # A running pod that only turned unready (the container restarting) went nowhere.
    unready = child("Pod", "bio-seat-001",
                    pod=PodState(phase="Running", node="kwok-0", ready=False))
    assert seat_status(Observed(RunDecision(True), unready, prepared=True), 2, NOW,
                       running)["message"] == "desktop is starting"
