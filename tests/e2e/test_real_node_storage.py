"""Homes on the real node: a non-root pod writes into a local PersistentVolume (fsGroup
applies), and the file is still there for the next pod that mounts the claim."""

from __future__ import annotations

from devcluster.kit import Kubectl, wait_for
from tests.e2e.conftest import NODE_NAME, ON_REAL_NODE, RESTRICTED_CONTAINER

UID = 1000


def home_pod(name: str, image: str, script: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            **ON_REAL_NODE, "automountServiceAccountToken": False, "restartPolicy": "Never",
            "securityContext": {"runAsUser": UID, "runAsGroup": UID, "fsGroup": UID},
            "containers": [{
                "name": "main", "image": image, "imagePullPolicy": "Never",
                "command": ["/bin/busybox", "sh", "-c", script],
                "volumeMounts": [{"name": "home", "mountPath": "/home/trainee"}],
                "securityContext": RESTRICTED_CONTAINER,
            }],
            "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "home"}}],
        },
    }


def finished(kubectl: Kubectl, namespace: str, name: str) -> dict:
    def probe() -> dict | None:
        pod = kubectl.get_json("pod", name, "-n", namespace)
        return pod if pod["status"].get("phase") in ("Succeeded", "Failed") else None
    return wait_for(f"pod {namespace}/{name} to finish", probe, timeout=90)


def test_home_on_a_local_volume_is_writable_and_survives_the_pod(
        kubectl: Kubectl, real_node: dict, busybox_image: str, namespace: str,
        local_volumes: int) -> None:
    kubectl.apply({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "home"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "devcluster-real-local",
                 "resources": {"requests": {"storage": "1Gi"}}},
    }, "-n", namespace)
    kubectl.apply(home_pod("writer", busybox_image,
                           "echo notes > /home/trainee/notes.txt"), "-n", namespace)
    writer = finished(kubectl, namespace, "writer")
    assert writer["status"]["phase"] == "Succeeded", kubectl.run(
        "logs", "writer", "-n", namespace, check=False).stdout
    assert writer["spec"]["nodeName"] == NODE_NAME

    kubectl.run("delete", "pod", "writer", "-n", namespace)
    kubectl.apply(home_pod("reader", busybox_image,
                           "/bin/busybox cat /home/trainee/notes.txt && "
                           "/bin/busybox stat -c %g /home/trainee/notes.txt"), "-n", namespace)
    reader = finished(kubectl, namespace, "reader")
    output = kubectl.run("logs", "reader", "-n", namespace).stdout
    assert reader["status"]["phase"] == "Succeeded", output
    assert output.split() == ["notes", str(UID)]
