"""The operator turns Courses into seats with desktops: counts, scaling, rosters, repair
and never adopting someone else's object. `arcdesk operator run` against the devcluster."""

from __future__ import annotations

from kubernetes import client

from devcluster.kit import Kubectl, wait_for
from tests.cluster.operator_fixture import (  # noqa: F401 - fixtures
    TEST_IMAGE,
    OperatorProcess,
    operator_fixture,
    profile_fixture,
)
from tests.cluster.operator_helpers import Namespace, condition, controller_uid, fingerprint

CREDENTIAL_KEYS = {"vnc-password", "view-password", "token"}


def seat_names(course: str, count: int) -> set[str]:
    return {f"{course}-seat-{i:03d}" for i in range(1, count + 1)}


def test_twenty_seat_course_becomes_ready(api: client.ApiClient, kubectl: Kubectl,
                                          namespace: str, operator: OperatorProcess,
                                          profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("bio", profile, {"count": 20})
    course = ns.wait_ready("bio", 20, timeout=90)
    assert course["status"]["phase"] == "Running"
    assert condition(course, "Degraded")["status"] == "False"

    expected = seat_names("bio", 20)
    seats, pods = ns.seats(), ns.pods()
    assert set(seats) == expected and set(pods) == expected
    for name, seat in seats.items():
        assert seat["status"]["phase"] == "Running", seat["status"]
        assert seat["status"]["node"].startswith("kwok-") and seat["status"]["podIP"]
        pod = pods[name]
        assert controller_uid(pod) == seat["metadata"]["uid"]
        assert pod["spec"]["containers"][0]["image"] == TEST_IMAGE
        assert pod["spec"]["nodeName"] == seat["status"]["node"]
    assert set(ns.services()) == expected
    secrets = ns.secrets()
    assert set(secrets) == expected | {"bio-instructor"}
    assert all(set(secrets[n]["data"]) == CREDENTIAL_KEYS for n in expected)
    claims = ns.claims()
    assert set(claims) == {f"{n}-home" for n in expected}
    # reclaimPolicy Retain (the default): homes belong to no one, so nothing deletes them.
    assert all(not c["metadata"].get("ownerReferences") for c in claims.values())
    assert set(ns.policies()) == {"bio-desktops"}

    table = kubectl.run("get", "courses", "-n", namespace).stdout.split()
    assert table[-5:-1] == ["bio", "True", "20/20", "Running"]
    assert operator.metric("arcdesk_seats", phase="Running") == 20
    events = ns.events()
    assert any(e["reason"] == "Running" and e["involvedObject"]["name"] == "bio"
               for e in events)
    refused = [e["message"] for e in events if e["reason"] == "FailedScheduling"]
    assert not refused, f"desktop pods were created before their homes bound: {refused[:2]}"


def test_scale_down_and_up_through_spec_and_scale_subresource(
        api: client.ApiClient, kubectl: Kubectl, namespace: str, operator: OperatorProcess,
        profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("sc", profile, {"count": 20})
    ns.wait_ready("sc", 20, timeout=90)
    homes = {name: c["metadata"]["uid"] for name, c in ns.claims().items()}

    ns.patch_course("sc", {"spec": {"seats": {"count": 5}}})
    ns.wait_ready("sc", 5)
    wait_for("seats 6-20 and their desktops gone",
             lambda: set(ns.seats()) == set(ns.pods()) == seat_names("sc", 5), timeout=30)
    # The removed seats' homes are kept, untouched (reclaimPolicy Retain).
    assert {n: c["metadata"]["uid"] for n, c in ns.claims().items()} == homes

    kubectl.run("scale", "course", "sc", "--replicas=12", "-n", namespace)
    course = ns.wait_ready("sc", 12)
    assert course["spec"]["seats"] == {"count": 12}
    assert set(ns.seats()) == set(ns.pods()) == seat_names("sc", 12)
    scale = kubectl.run("get", "--raw", f"/apis/arcdesk.dev/v1alpha1/namespaces/{namespace}"
                        "/courses/sc/scale").stdout
    assert '"replicas":12' in scale.replace(" ", "")
    # Seats 6-12 came back to the very same homes.
    assert {n: c["metadata"]["uid"] for n, c in ns.claims().items()} == homes
    pod = ns.pods()["sc-seat-007"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["home"]["persistentVolumeClaim"]["claimName"] == "sc-seat-007-home"


def test_roster_change_maps_to_the_right_seats(api: client.ApiClient, namespace: str,
                                               operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("r", profile, {"roster": [
        {"id": "alice", "displayName": "Alice A."}, {"id": "bob", "displayName": "Bob B."},
        {"id": "carol", "displayName": "Carol C."}]})
    ns.wait_ready("r", 3)
    pods, secrets = ns.pods(), ns.secrets()
    alice_pod, carol_pod = pods["r-alice"]["metadata"]["uid"], pods["r-carol"]["metadata"]["uid"]
    alice_secret = fingerprint(secrets["r-alice"])

    ns.patch_course("r", {"spec": {"seats": {"roster": [
        {"id": "alice", "displayName": "Alice A."}, {"id": "carol", "displayName": "Carol Chen"},
        {"id": "dave"}]}}})
    ns.wait_ready("r", 3)
    wait_for("bob's desktop gone", lambda: "r-bob" not in ns.pods(), timeout=30)
    seats, pods, secrets = ns.seats(), ns.pods(), ns.secrets()
    assert set(seats) == set(pods) == {"r-alice", "r-carol", "r-dave"}
    assert "r-bob" not in secrets and "r-bob" not in ns.services()
    assert "r-bob-home" in ns.claims()  # his home is kept
    # Alice's desktop and link are untouched.
    assert pods["r-alice"]["metadata"]["uid"] == alice_pod
    assert fingerprint(secrets["r-alice"]) == alice_secret
    # Carol's new name is on her seat; her running desktop is not restarted for it.
    assert seats["r-carol"]["spec"]["displayName"] == "Carol Chen"
    assert pods["r-carol"]["metadata"]["uid"] == carol_pod
    progressing = condition(seats["r-carol"], "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("True", "UpdatePending")
    assert seats["r-dave"]["spec"]["displayName"] == ""


def test_deleted_or_edited_children_are_restored(api: client.ApiClient, kubectl: Kubectl,
                                                 namespace: str, operator: OperatorProcess,
                                                 profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("rep", profile, {"count": 2})
    ns.wait_ready("rep", 2)
    pod_uid = ns.pods()["rep-seat-001"]["metadata"]["uid"]
    secret = fingerprint(ns.secrets()["rep-seat-001"])

    kubectl.run("delete", "pod", "rep-seat-001", "-n", namespace, "--wait=false")
    kubectl.run("delete", "service", "rep-seat-002", "-n", namespace, "--wait=false")
    kubectl.run("label", "secret", "rep-seat-001", "-n", namespace,
                "app.kubernetes.io/managed-by-", "arcdesk.dev/seat=someone-else", "--overwrite")

    def restored() -> bool:
        pod = ns.pods().get("rep-seat-001")
        labels = ns.secrets()["rep-seat-001"]["metadata"]["labels"]
        return (pod is not None and pod["metadata"]["uid"] != pod_uid
                and "rep-seat-002" in ns.services()
                and labels.get("app.kubernetes.io/managed-by") == "arcdesk"
                and labels.get("arcdesk.dev/seat") == "seat-001")

    wait_for("pod, service and secret labels restored", restored, timeout=30, interval=0.2)
    ns.wait_ready("rep", 2, timeout=20)
    assert fingerprint(ns.secrets()["rep-seat-001"]) == secret  # credentials never rotated


def test_a_foreign_object_is_never_adopted(api: client.ApiClient, namespace: str,
                                           operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    foreign = client.V1Service(
        metadata=client.V1ObjectMeta(name="fo-seat-002", labels={"team": "web"}),
        spec=client.V1ServiceSpec(selector={"app": "web"},
                                  ports=[client.V1ServicePort(port=80)]))
    ns.core.create_namespaced_service(namespace, foreign)
    ns.create_course("fo", profile, {"count": 3})

    def conflict(course: dict[str, object]) -> bool:
        return condition(course, "Degraded").get("reason") == "NameConflict"

    course = ns.wait_course("fo", "Degraded NameConflict", conflict)
    assert "1 of 3 seats" in condition(course, "Degraded")["message"]
    wait_for("2 seats ready", lambda: ns.course("fo")["status"]["seats"]["ready"] == 2)
    seat = ns.seat("fo-seat-002")
    degraded = condition(seat, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "NameConflict")
    assert "Service fo-seat-002" in degraded["message"]
    assert seat["status"]["phase"] == "Failed"
    service = ns.services()["fo-seat-002"]
    assert not service["metadata"].get("ownerReferences")
    assert service["metadata"]["labels"] == {"team": "web"}
    assert [p["port"] for p in service["spec"]["ports"]] == [80]

    # Once the owner removes theirs, the seat gets its own (retries back off, not stop).
    ns.core.delete_namespaced_service("fo-seat-002", namespace)
    ns.wait_ready("fo", 3, timeout=60)
    assert controller_uid(ns.services()["fo-seat-002"]) == ns.seat("fo-seat-002")[
        "metadata"]["uid"]
