"""Failures are visible in status, retried with backoff (never a hot loop), and one bad
course does not keep the operator from serving the others."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from devcluster.kit import wait_for
from devcluster.resources import HOSTPATH_PROVISIONER
from tests.cluster.operator_fixture import (  # noqa: F401 - fixtures
    TEST_IMAGE,
    OperatorProcess,
    profile_fixture,
)
from tests.cluster.operator_helpers import GROUP, VERSION, Namespace, Obj, condition


@pytest.fixture
def quota_namespace(api: client.ApiClient, namespace: str) -> Iterator[str]:
    """A second namespace whose ResourceQuota allows two pods."""
    name = f"{namespace}-q"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"pod-security.kubernetes.io/enforce": "restricted",
                           "arcdesk.dev/test": "true"})))
    core.create_namespaced_resource_quota(name, client.V1ResourceQuota(
        metadata=client.V1ObjectMeta(name="desktops"),
        spec=client.V1ResourceQuotaSpec(hard={"pods": "2"})))
    yield name
    core.delete_namespace(name)


def stop_and_clean_up(operator: OperatorProcess, delete: Callable[[], object]) -> None:
    """Stop the test's operator (its log tail shown on failure), then delete what the test
    made outside its namespace; already gone is fine."""
    operator.stop()
    print(f"--- operator log (tail) ---\n{operator.log_tail()}")
    try:
        delete()
    except client.ApiException as error:
        if error.status != 404:
            raise


def degraded_because(reason: str):  # type: ignore[no-untyped-def]
    def probe(course: Obj) -> bool:
        return condition(course, "Degraded").get("reason") == reason
    return probe


def test_missing_profile_and_exceeded_quota_are_reported_while_others_work(
        api: client.ApiClient, kubeconfig: Path, namespace: str, quota_namespace: str,
        profile: str, tmp_path: Path) -> None:
    operator = OperatorProcess(kubeconfig, [namespace, quota_namespace], tmp_path / "op.log")
    operator.start()
    custom = client.CustomObjectsApi(api)
    missing = f"t-missing-{secrets.token_hex(3)}"
    try:
        ns, crowded = Namespace(api, namespace), Namespace(api, quota_namespace)
        ns.create_course("nope", missing, {"count": 2})
        ns.create_course("fine", profile, {"count": 2})
        ns.create_course("nowhere", profile, {"count": 1},
                         nodeSelector={"arcdesk.dev/node-pool": "no-such-pool"})
        crowded.create_course("crowd", profile, {"count": 4})

        ns.wait_ready("fine", 2)
        course = ns.wait_course("nope", "ProfileNotFound", degraded_because("ProfileNotFound"))
        assert missing in condition(course, "Degraded")["message"]
        assert course["status"]["phase"] == "Pending"
        assert set(ns.seats()) >= {"nope-seat-001", "nope-seat-002"}
        assert not [p for p in ns.pods() if p.startswith("nope-")]
        assert condition(ns.seat("nope-seat-001"), "Degraded")["reason"] == "ProfileNotFound"

        course = ns.wait_course("nowhere", "Unschedulable", degraded_because("Unschedulable"))
        assert "didn't match Pod's node affinity/selector" in condition(
            course, "Degraded")["message"]
        assert condition(ns.seat("nowhere-seat-001"), "Degraded")["reason"] == "Unschedulable"

        course = crowded.wait_course("crowd", "ResourceQuotaExceeded",
                                     degraded_because("ResourceQuotaExceeded"))
        message = condition(course, "Degraded")["message"]
        assert message.startswith("2 of 4 seats:") and "exceeded quota: desktops" in message
        wait_for("2 of 4 crowded seats ready", lambda: crowded.course("crowd")["status"][
            "seats"]["ready"] == 2)
        stuck = [s for s in crowded.seats().values()
                 if (s.get("status") or {}).get("reason") == "ResourceQuotaExceeded"]
        assert len(stuck) == 2 and {s["status"]["phase"] for s in stuck} == {"Pending"}

        # Retries back off: a few tries in 5 s, where a hot loop would make hundreds.
        denied = operator.metric("arcdesk_api_requests_total", verb="POST", code="403")
        time.sleep(5)
        assert operator.metric("arcdesk_api_requests_total", verb="POST", code="403") \
            - denied <= 6

        # The missing profile appears: its course comes up without anyone touching it.
        custom.create_cluster_custom_object(GROUP, VERSION, "desktopprofiles", {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "DesktopProfile",
            "metadata": {"name": missing}, "spec": {"image": TEST_IMAGE}})
        course = ns.wait_ready("nope", 2, timeout=30)
        assert condition(course, "Degraded")["status"] == "False"
    finally:
        stop_and_clean_up(operator, lambda: custom.delete_cluster_custom_object(
            GROUP, VERSION, "desktopprofiles", missing))


def test_a_steady_course_costs_no_writes(api: client.ApiClient, kubeconfig: Path,
                                         namespace: str, profile: str, tmp_path: Path) -> None:
    """Level-triggered without churn: re-checking a converged course changes nothing."""
    operator = OperatorProcess(kubeconfig, [namespace], tmp_path / "op.log", "--resync", "5",
                               "--gateway-namespace", "arcdesk-gw")
    operator.start()
    try:
        ns = Namespace(api, namespace)
        ns.create_course("calm", profile, {"count": 3}, idle={"timeout": "2h"})
        ns.wait_ready("calm", 3)
        policy = ns.policies()["calm-desktops"]["spec"]
        source = policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
        assert source == {"kubernetes.io/metadata.name": "arcdesk-gw"}  # only the gateway
        time.sleep(2)  # the last status writes land

        def counts() -> tuple[float, float]:
            writes = sum(operator.metric("arcdesk_api_requests_total", verb=verb, code=code)
                         for verb, code in (("POST", "201"), ("PATCH", "200"),
                                            ("DELETE", "200")))
            return writes, operator.metric("arcdesk_reconciles_total", kind="Seat", result="ok")

        writes, reconciles = counts()
        time.sleep(11)  # two resync periods: every course and seat is re-checked
        writes_after, reconciles_after = counts()
        assert reconciles_after >= reconciles + 3
        assert writes_after == writes
    finally:
        operator.stop()
        print(f"--- operator log (tail) ---\n{operator.log_tail()}")


def test_a_home_in_a_storage_class_that_does_not_exist_is_reported_and_heals_once_made(
        api: client.ApiClient, kubeconfig: Path, namespace: str, profile: str,
        tmp_path: Path) -> None:
    """The schema admits any class name; a class the cluster lacks leaves the home unbound.
    After the bind grace the course says which class, which field and what to do; creating
    the class brings the seat up without anyone touching the course."""
    operator = OperatorProcess(kubeconfig, [namespace], tmp_path / "op.log")
    operator.start()
    storage = client.StorageV1Api(api)
    missing = f"t-missing-{secrets.token_hex(3)}"
    try:
        ns = Namespace(api, namespace)
        ns.create_course("lost", profile, {"count": 1},
                         storage={"size": "1Gi", "storageClassName": missing})
        started = time.monotonic()
        course = ns.wait_course("lost", "StorageClassNotFound",
                                degraded_because("StorageClassNotFound"), timeout=75)
        reported = time.monotonic() - started
        message = condition(course, "Degraded")["message"]
        assert repr(missing) in message and "spec.storage.storageClassName" in message, message
        assert condition(ns.seat("lost-seat-001"), "Degraded")["reason"] == \
            "StorageClassNotFound"
        print(f"missing storage class reported after {reported:.1f} s")

        storage.create_storage_class(client.V1StorageClass(
            metadata=client.V1ObjectMeta(name=missing), provisioner=HOSTPATH_PROVISIONER,
            volume_binding_mode="Immediate"))
        course = ns.wait_ready("lost", 1, timeout=90)
        assert condition(course, "Degraded")["status"] == "False"
    finally:
        stop_and_clean_up(operator, lambda: storage.delete_storage_class(missing))
