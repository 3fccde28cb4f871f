"""The devcluster is a real Kubernetes: CRD validation, KWOK scheduling, PVs, GC, PodSecurity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from devcluster.kit import Kubectl, wait_for
from tests.invalid_cases import InvalidCase, load_cases, valid_base

RESTRICTED_CONTAINER_SECURITY = {
    "runAsNonRoot": True, "runAsUser": 1000, "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
}


def pause_pod(name: str, security: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            "containers": [{"name": "main", "image": "registry.invalid/pause:1",
                            "securityContext": security or RESTRICTED_CONTAINER_SECURITY}],
            "tolerations": [{"operator": "Exists"}],
            "nodeSelector": {"type": "kwok"},  # never the real node: this image does not exist
        },
    }


def test_crds_are_established_with_printer_columns(kubectl: Kubectl, crds: list[str]) -> None:
    course = kubectl.get_json("crd", "courses.arcdesk.dev")
    version = course["spec"]["versions"][0]
    columns = [column["name"] for column in version["additionalPrinterColumns"]]
    assert {"Ready", "Seats", "Phase", "Age"} <= set(columns)
    assert version["subresources"]["scale"]["specReplicasPath"] == ".spec.seats.count"
    assert set(crds) == {"courses.arcdesk.dev", "seats.arcdesk.dev",
                         "desktopprofiles.arcdesk.dev"}


def test_valid_course_is_accepted(kubectl: Kubectl, namespace: str) -> None:
    course = {"apiVersion": "arcdesk.dev/v1alpha1", "kind": "Course",
              "metadata": {"name": "good", "namespace": namespace}, "spec": valid_base()}
    kubectl.apply(course)
    stored = kubectl.get_json("course", "good", "-n", namespace)
    assert stored["spec"]["storage"]["reclaimPolicy"] == "Retain", "CRD default not applied"


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.name)
def test_apiserver_rejects_invalid_course(kubectl: Kubectl, namespace: str,
                                          case: InvalidCase) -> None:
    manifest = case.course(name=f"bad-{case.name}"[:60], namespace=namespace)
    result = kubectl.run("create", "--validate=strict", "-f", "-",
                         stdin=json.dumps(manifest), check=False)
    assert result.returncode != 0, f"API server accepted {case.name}"
    assert case.field in result.stderr, result.stderr
    assert case.message in result.stderr, result.stderr


def test_pod_on_kwok_node_becomes_running(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(pause_pod("runner"), "-n", namespace)
    pod = wait_for("pod Running on a KWOK node", lambda: running(kubectl, namespace, "runner"))
    node = kubectl.get_json("node", pod["spec"]["nodeName"])
    assert node["metadata"]["labels"]["type"] == "kwok"
    assert pod["status"]["podIP"], "KWOK should assign a pod IP"


def running(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any] | None:
    pod: dict[str, Any] = kubectl.get_json("pod", name, "-n", namespace)
    return pod if pod.get("status", {}).get("phase") == "Running" else None


def test_pvc_binds_at_once_and_its_volume_goes_with_it(kubectl: Kubectl, namespace: str) -> None:
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "home"},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "1Gi"}}}}
    kubectl.apply(claim, "-n", namespace)

    def bound() -> dict[str, Any] | None:
        pvc: dict[str, Any] = kubectl.get_json("pvc", "home", "-n", namespace)
        return pvc if pvc.get("status", {}).get("phase") == "Bound" else None

    pvc = wait_for("PVC Bound", bound, timeout=30)
    assert pvc["spec"]["storageClassName"] == "devcluster-local"
    volume = pvc["spec"]["volumeName"]
    kubectl.run("delete", "pvc", "home", "-n", namespace)

    def volume_gone() -> bool:
        names = kubectl.run("get", "pv", "-o", "name").stdout.split()
        return f"persistentvolume/{volume}" not in names

    wait_for("the PV of a deleted PVC to be deleted (storage never runs out)", volume_gone,
             timeout=60)


def test_deleting_an_owner_collects_its_children(api: client.ApiClient,
                                                 namespace: str) -> None:
    core = client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="owner")))
    reference = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner",
                                        uid=owner.metadata.uid)
    core.create_namespaced_secret(namespace, client.V1Secret(metadata=client.V1ObjectMeta(
        name="child", owner_references=[reference]), string_data={"k": "v"}))
    core.delete_namespaced_config_map("owner", namespace)

    def child_gone() -> bool:
        return not core.list_namespaced_secret(
            namespace, field_selector="metadata.name=child").items

    wait_for("garbage collection of the child Secret", child_gone, timeout=30)


def test_restricted_namespace_refuses_a_privileged_pod(kubectl: Kubectl,
                                                       namespace: str) -> None:
    result = kubectl.apply(pause_pod("rooty", {"privileged": True}), "-n", namespace,
                           check=False)
    assert result.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in result.stderr, result.stderr
