"""The real node pulls images from the devcluster registry by digest, as it would from any
registry an admin pushes to: no image imported into containerd by hand."""

from __future__ import annotations

from devcluster.kit import Kubectl, wait_for
from tests.e2e.test_real_node import http_get, ready_pod, web_pod


def pod_events(kubectl: Kubectl, namespace: str, name: str) -> list[dict]:
    events = kubectl.get_json("events", "-n", namespace,
                              "--field-selector", f"involvedObject.name={name}")
    return list(events["items"])


def test_a_pod_pulls_its_image_from_the_registry_by_digest(
        kubectl: Kubectl, pushed_busybox: str, namespace: str) -> None:
    assert "@sha256:" in pushed_busybox
    kubectl.apply(web_pod("pulled", pushed_busybox, pull_policy="Always"), "-n", namespace)
    pod = ready_pod(kubectl, namespace, "pulled")
    assert "hello from pulled" in http_get(f"http://{pod['status']['podIP']}:8080/")
    pulled = [e["message"] for e in pod_events(kubectl, namespace, "pulled")
              if e["reason"] == "Pulled"]
    assert any("Successfully pulled image" in message for message in pulled), pulled
    assert pod["status"]["containerStatuses"][0]["imageID"].endswith(
        pushed_busybox.split("@")[1])


def test_a_digest_the_registry_lacks_fails_to_pull_and_says_so(
        kubectl: Kubectl, pushed_busybox: str, namespace: str) -> None:
    missing = pushed_busybox.split("@")[0] + "@sha256:" + "0" * 64
    kubectl.apply(web_pod("missing", missing, pull_policy="IfNotPresent"), "-n", namespace)

    def waiting_reason() -> str | None:
        pod = kubectl.get_json("pod", "missing", "-n", namespace)
        for status in pod["status"].get("containerStatuses", []):
            reason = status.get("state", {}).get("waiting", {}).get("reason")
            if reason in ("ErrImagePull", "ImagePullBackOff"):
                return str(reason)
        return None
    assert wait_for("pod missing to report its failed pull", waiting_reason, timeout=60)
    failed = [e["message"] for e in pod_events(kubectl, namespace, "missing")
              if e["reason"] == "Failed"]
    assert any("not found" in message for message in failed), failed
