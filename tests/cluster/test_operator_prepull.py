"""Image pre-pull on the devcluster: while a course is due, a DaemonSet in the operator's own
namespace holds the profile's image on every node the desktops may land on, its pods placed
by the real kube-controller-manager on the KWOK nodes; the Course says how many nodes hold
the image; the course namespace's pod quota never pays for it; suspending the course
removes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from devcluster.kit import TEST_IMAGE, OperatorProcess, wait_for
from tests.cluster.conftest import restricted_namespace
from tests.cluster.operator_fixture import profile_fixture  # noqa: F401 - fixture
from tests.cluster.operator_helpers import Namespace, condition

# Taints every DaemonSet pod tolerates by itself (the DaemonSet controller adds them).
DAEMON_TOLERATED = "node.kubernetes.io/"
PREPULL = "app.kubernetes.io/component=prepull"


@pytest.fixture
def system_namespace(api: client.ApiClient, crds: list[str]) -> Iterator[str]:
    """The operator's own namespace (Pod Security `restricted`, as the chart's is)."""
    with restricted_namespace(api, "t-sys-") as name:
        yield name


@pytest.fixture
def prepulling_operator(kubeconfig: Path, namespace: str, system_namespace: str,
                        tmp_path: Path) -> Iterator[OperatorProcess]:
    process = OperatorProcess(kubeconfig, [namespace], tmp_path / "operator.log",
                              "--prepull-namespace", system_namespace)
    process.start()
    yield process
    process.stop()
    print(f"--- operator log (tail) ---\n{process.log_tail()}")


def eligible_nodes(api: client.ApiClient) -> set[str]:
    """Nodes a profile without nodeSelector and tolerations may use."""
    nodes = client.CoreV1Api(api).list_node().items
    return {n.metadata.name for n in nodes
            if all(t.key.startswith(DAEMON_TOLERATED) for t in n.spec.taints or ())}


def pullers(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    found = client.AppsV1Api(api).list_namespaced_daemon_set(namespace, label_selector=PREPULL)
    result: list[dict[str, Any]] = client.ApiClient().sanitize_for_serialization(found.items)
    return result


def test_a_due_course_has_its_image_held_on_every_eligible_node_off_its_quota(
        api: client.ApiClient, namespace: str, system_namespace: str,
        prepulling_operator: OperatorProcess, profile: str) -> None:
    client.CoreV1Api(api).create_namespaced_resource_quota(namespace, {
        "metadata": {"name": "pods"}, "spec": {"hard": {"pods": "1"}}})  # room for 1 desktop
    ns = Namespace(api, namespace)
    ns.create_course("pull", profile, {"count": 1})
    course = ns.wait_course("pull", "ImagesReady", lambda c: condition(
        c, "ImagesReady").get("status") == "True")
    nodes = eligible_nodes(api)
    assert course["status"]["images"] == {
        "image": TEST_IMAGE, "eligible": len(nodes), "ready": len(nodes),
        "summary": f"{len(nodes)}/{len(nodes)}"}
    assert condition(course, "ImagesReady")["reason"] == "ImagesPulled"
    [puller] = pullers(api, system_namespace)
    [container] = puller["spec"]["template"]["spec"]["containers"]
    assert container["image"] == TEST_IMAGE
    placed = client.CoreV1Api(api).list_namespaced_pod(system_namespace, label_selector=PREPULL)
    assert {p.spec.node_name for p in placed.items} == nodes
    ns.wait_ready("pull", 1)  # the quota's one pod went to the desktop
    assert pullers(api, namespace) == []

    ns.patch_course("pull", {"spec": {"suspend": True}})
    ns.wait_course("pull", "pre-pull stopped", lambda c: condition(
        c, "ImagesReady").get("reason") == "NotPulling" and not c["status"].get("images"))
    wait_for("the pre-pull DaemonSet deleted", lambda: not pullers(api, system_namespace),
             timeout=30)
