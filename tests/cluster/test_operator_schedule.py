"""When desktops run: the schedule, suspend/resume, idle culling and start requests, and
credentials that change only when asked to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubernetes import client

from devcluster.kit import wait_for
from tests.cluster.operator_fixture import (  # noqa: F401 - fixtures
    OperatorProcess,
    operator_fixture,
    profile_fixture,
)
from tests.cluster.operator_helpers import Namespace, Obj, condition, decoded, fingerprint

START_REQUESTED = "arcdesk.dev/start-requested"
REISSUE_REQUESTED = "arcdesk.dev/reissue-requested"


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def phase_is(phase: str, ready: int | None = None):  # type: ignore[no-untyped-def]
    def probe(course: Obj) -> bool:
        status = course.get("status") or {}
        return status.get("phase") == phase and (
            ready is None or status.get("seats", {}).get("ready") == ready)
    return probe


def test_schedule_moves_through_scheduled_running_ended(
        api: client.ApiClient, namespace: str, operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=13)
    boot, end = start - timedelta(seconds=3), start + timedelta(seconds=4)
    ns.create_course("win", profile, {"count": 2},
                     schedule={"start": rfc3339(start), "end": rfc3339(end), "prewarm": "3s"})

    course = ns.wait_course("win", "Scheduled, seats prepared", phase_is("Scheduled", 2))
    assert datetime.now(UTC) < boot, "the course must be seen Scheduled before its boot time"
    assert course["status"]["nextTransition"] == rfc3339(boot)
    assert condition(course, "Ready")["reason"] == "Scheduled"
    seats = ns.seats()
    assert {s["status"]["phase"] for s in seats.values()} == {"Scheduled"}
    # Before the boot time only Seats, Secrets and home PVCs exist.
    assert set(ns.claims()) == {"win-seat-001-home", "win-seat-002-home"}
    assert {"win-seat-001", "win-seat-002"} <= set(ns.secrets())
    assert ns.pods() == {} and ns.services() == {}

    ns.wait_course("win", "Running", phase_is("Running", 2), timeout=20)
    assert datetime.now(UTC) >= boot
    assert set(ns.pods()) == {"win-seat-001", "win-seat-002"}

    course = ns.wait_course("win", "Ended", phase_is("Ended"), timeout=20)
    assert datetime.now(UTC) >= end
    assert course["status"].get("nextTransition") is None
    wait_for("desktops stopped", lambda: ns.pods() == {} and ns.services() == {}, timeout=20)
    ns.wait_course("win", "Ended with both seats stopped", phase_is("Ended", 2))
    seat = ns.seat("win-seat-001")
    assert (seat["status"]["phase"], seat["status"]["reason"]) == ("Stopped", "Ended")
    assert set(ns.claims()) == {"win-seat-001-home", "win-seat-002-home"}  # homes kept


def test_suspend_and_resume_keep_home_and_link(
        api: client.ApiClient, namespace: str, operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("sus", profile, {"count": 2})
    ns.wait_ready("sus", 2)
    homes = {n: c["metadata"]["uid"] for n, c in ns.claims().items()}
    links = {n: fingerprint(s) for n, s in ns.secrets().items()}
    pods = {n: p["metadata"]["uid"] for n, p in ns.pods().items()}

    ns.patch_course("sus", {"spec": {"suspend": True}})
    ns.wait_course("sus", "Suspended", phase_is("Suspended", 2))
    assert ns.pods() == {}  # a seat is ready (stopped) only once its desktop is gone
    seat = ns.seat("sus-seat-002")
    assert (seat["status"]["phase"], seat["status"]["reason"]) == ("Stopped", "Suspended")

    ns.patch_course("sus", {"spec": {"suspend": False}})
    ns.wait_ready("sus", 2)
    assert ns.course("sus")["status"]["phase"] == "Running"
    resumed = {n: p["metadata"]["uid"] for n, p in ns.pods().items()}
    assert set(resumed) == set(pods) and not set(resumed.values()) & set(pods.values())
    assert {n: c["metadata"]["uid"] for n, c in ns.claims().items()} == homes
    assert {n: fingerprint(s) for n, s in ns.secrets().items()} == links


def test_idle_desktop_stops_and_a_start_request_wakes_it(
        api: client.ApiClient, namespace: str, operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("idl", profile, {"count": 1}, idle={"timeout": "5m"})
    ns.wait_ready("idl", 1)
    home = ns.claims()["idl-seat-001-home"]["metadata"]["uid"]

    # The desktop reports its last input an hour ago (as the session agent would).
    an_hour_ago = rfc3339(datetime.now(UTC) - timedelta(hours=1))
    ns.patch_seat("idl-seat-001", {"status": {"lastActivity": an_hour_ago}}, status=True)

    def idle_stopped() -> bool:
        status = ns.seat("idl-seat-001").get("status") or {}
        return status.get("reason") == "Idle" and "idl-seat-001" not in ns.pods()

    wait_for("idle desktop stopped", idle_stopped, timeout=15)
    status = ns.seat("idl-seat-001")["status"]
    assert status["phase"] == "Stopped" and status["idleStopped"] is True
    assert ns.claims()["idl-seat-001-home"]["metadata"]["uid"] == home

    ns.patch_seat("idl-seat-001", {"metadata": {"annotations": {
        START_REQUESTED: rfc3339(datetime.now(UTC))}}})
    ns.wait_ready("idl", 1)
    wait_for("desktop running again", lambda: ns.seat("idl-seat-001")["status"].get(
        "phase") == "Running" and "idl-seat-001" in ns.pods(), timeout=15)
    seat = ns.seat("idl-seat-001")
    assert seat["status"]["idleStopped"] is False
    assert START_REQUESTED not in (seat["metadata"].get("annotations") or {})
    assert seat["status"]["lastActivity"] > an_hour_ago  # its idle clock starts again


def test_credentials_change_only_on_request(
        api: client.ApiClient, namespace: str, operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("cred", profile, {"count": 2})
    ns.wait_ready("cred", 2)
    before = ns.secrets()

    ns.patch_seat("cred-seat-001", {"metadata": {"annotations": {REISSUE_REQUESTED: "1"}}})
    ns.patch_course("cred", {"metadata": {"annotations": {REISSUE_REQUESTED: "1"}}})

    def reissued() -> bool:
        secret = ns.secrets()["cred-seat-001"]
        return secret["metadata"]["annotations"].get("arcdesk.dev/secret-generation") == "2"

    wait_for("seat credentials reissued", reissued, timeout=15)
    wait_for("instructor token reissued", lambda: fingerprint(
        ns.secrets()["cred-instructor"]) != fingerprint(before["cred-instructor"]), timeout=15)
    after = ns.secrets()
    for key in ("vnc-password", "view-password", "token"):
        assert decoded(after["cred-seat-001"], key) != decoded(before["cred-seat-001"], key)
    assert fingerprint(after["cred-seat-002"]) == fingerprint(before["cred-seat-002"])
    wait_for("requests acknowledged", lambda: REISSUE_REQUESTED not in (
        ns.seat("cred-seat-001")["metadata"].get("annotations") or {}) and REISSUE_REQUESTED
        not in (ns.course("cred")["metadata"].get("annotations") or {}), timeout=10)
    events = [e for e in ns.events() if e["reason"] == "CredentialsReissued"]
    assert {e["involvedObject"]["name"] for e in events} == {"cred-seat-001", "cred"}
    values = [decoded(s, k) for s in after.values() if s["metadata"]["name"].startswith("cred-")
              for k in s["data"]]
    assert not any(v in e["message"] for e in ns.events() for v in values)
