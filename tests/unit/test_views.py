"""views: what the operator keeps of API objects, and why a pod is not starting."""

from __future__ import annotations

from typing import Any

import pytest

from arcdesk.api import views


def pod(status: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": "bio-seat-001", "namespace": "training"},
            "spec": {"nodeName": "kwok-1", "containers": [{"image": "reg/desktop:1"}]},
            "status": status}


def waiting(reason: str, message: str = "") -> dict[str, Any]:
    return {"phase": "Pending", "containerStatuses": [
        {"name": "desktop", "state": {"waiting": {"reason": reason, "message": message}}}]}


@pytest.mark.parametrize(("status", "problem", "detail"), [
    (waiting("ErrImagePull", "not found"), "ImagePullBackOff", "ErrImagePull: not found"),
    (waiting("ImagePullBackOff"), "ImagePullBackOff", "ImagePullBackOff"),
    (waiting("CrashLoopBackOff", "back-off 5m"), "CrashLoopBackOff",
     "CrashLoopBackOff: back-off 5m"),
    (waiting("CreateContainerConfigError", "secret missing"), "ContainerError",
     "CreateContainerConfigError: secret missing"),
    ({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/4 nodes are available: 4 Insufficient memory."}]},
     "Unschedulable", "0/4 nodes are available: 4 Insufficient memory."),
    ({"phase": "Failed", "message": "evicted"}, "DesktopFailed", "evicted"),
    (waiting("ContainerCreating"), "", ""),  # slow, not stuck
])
def test_pod_problems_are_named(status: dict[str, Any], problem: str, detail: str) -> None:
    state = views.pod_state(pod(status))
    assert (state.problem, state.detail, state.ready) == (problem, detail, False)


def test_a_ready_pod_has_node_ip_and_image() -> None:
    state = views.pod_state(pod({"phase": "Running", "podIP": "10.1.2.3",
                                 "conditions": [{"type": "Ready", "status": "True"}]}))
    assert state == views.PodState("Running", "kwok-1", "10.1.2.3", True, "", "",
                                   "reg/desktop:1")


def test_a_secret_view_keeps_keys_never_values() -> None:
    view = views.object_view({
        "kind": "Secret", "metadata": {"name": "s", "namespace": "n", "annotations": {
            "arcdesk.dev/secret-generation": "2", "kubectl.kubernetes.io/x": "y"}},
        "data": {"token": "c2VjcmV0LXRva2Vu", "vnc-password": "cGFzc3dvcmQ="}})
    assert view.keys == ("token", "vnc-password")
    assert view.annotations == {"arcdesk.dev/secret-generation": "2"}
    assert "c2VjcmV0" not in repr(view) and "cGFzc3dvcmQ" not in repr(view)


def test_arcdesk_objects_are_recognised_by_label_or_owner() -> None:
    labelled = {"metadata": {"labels": {"app.kubernetes.io/managed-by": "arcdesk"}}}
    owned = {"metadata": {"ownerReferences": [
        {"apiVersion": "arcdesk.dev/v1alpha1", "kind": "Seat", "name": "bio-seat-001",
         "uid": "u", "controller": True}]}}
    other = {"metadata": {"labels": {"app.kubernetes.io/managed-by": "helm"}}}
    assert views.is_arcdesk_object(labelled) and views.is_arcdesk_object(owned)
    assert not views.is_arcdesk_object(other)
    assert views.controller_of(owned, "Seat") == "bio-seat-001"
    assert views.controller_of(owned, "Course") is None


def test_written_by_arcdesk_is_read_from_managed_fields() -> None:
    body = {"kind": "PersistentVolumeClaim", "metadata": {"name": "h", "managedFields": [
        {"manager": "kube-controller-manager"}, {"manager": "arcdesk-operator"}]}}
    assert views.object_view(body).ours
    assert not views.object_view({"kind": "Service", "metadata": {"name": "x"}}).ours


def test_a_seat_is_ready_only_for_its_current_generation() -> None:
    body = {"metadata": {"name": "bio-seat-001", "namespace": "n", "generation": 2},
            "spec": {"course": "bio", "id": "seat-001", "state": "Running"},
            "status": {"observedGeneration": 1,
                       "conditions": [{"type": "Ready", "status": "True"}]}}
    assert not views.seat_view(body).ready()
    body["status"]["observedGeneration"] = 2
    assert views.seat_view(body).ready()
    assert views.seat_view(body).spec["displayName"] == ""
