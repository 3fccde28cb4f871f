"""A real desktop pod on the real node, rendered by the operator's own builders from the
locally built base image: it becomes Ready, serves noVNC at <pod IP>:6080 and its agent
shows a drawn desktop (not a blank screen) at <pod IP>:8080/thumbnail.png."""

from __future__ import annotations

import io
import sys
import urllib.request
from typing import Any

import pytest
from PIL import Image

from arcdesk import desired, labels, profiles
from arcdesk.credentials import SeatCredentials
from arcdesk.model import parse_course, parse_profile
from tests.cluster.kube_helpers import Kubectl, wait_for
from tests.e2e.conftest import NODE_NAME, ON_REAL_NODE, REPO, import_image


@pytest.fixture(scope="session")
def base_desktop_image(real_node: dict) -> str:
    """images/desktop/Dockerfile target `base`, built with buildah (cached) and imported."""
    return import_image([sys.executable, str(REPO / "images" / "build" / "desktop_image.py"),
                         "base"])


def seat_objects(namespace: str, image: str) -> list[dict[str, Any]]:
    course = parse_course({
        "apiVersion": labels.API_VERSION, "kind": "Course",
        "metadata": {"name": "e2e", "namespace": namespace},
        "spec": {"title": "Real node", "profile": "base", "seats": {"count": 1},
                 "nodeSelector": ON_REAL_NODE["nodeSelector"],
                 "resources": {"cpu": "500m", "memory": "1Gi"},
                 "storage": {"size": "1Gi", "storageClassName": "devcluster-real-local"}},
    })
    document = next(p for p in profiles.default_profiles(pull_policy="Never")
                    if p["metadata"]["name"] == "base")
    document["spec"]["image"] = image
    objects = desired.seat_children(
        course, parse_profile(document), course.trainees[0],
        SeatCredentials("vnc-e2e-1", "view-e2e", "t" * 43), seat_owner=None)
    for manifest in objects:
        if manifest["kind"] == "Pod":  # the pod template has no tolerations (yet)
            manifest["spec"]["tolerations"] = ON_REAL_NODE["tolerations"]
    return objects


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_desktop_pod_on_the_real_node_draws_a_desktop(
        kubectl: Kubectl, real_node: dict, base_desktop_image: str, namespace: str) -> None:
    objects = seat_objects(namespace, base_desktop_image)
    for manifest in objects:
        kubectl.apply(manifest, "-n", namespace)
    name = next(m["metadata"]["name"] for m in objects if m["kind"] == "Pod")

    def ready() -> dict | None:
        pod = kubectl.get_json("pod", name, "-n", namespace)
        ok = any(c["type"] == "Ready" and c["status"] == "True"
                 for c in pod["status"].get("conditions", []))
        return pod if ok else None
    pod = wait_for(f"desktop pod {name} Ready", ready, timeout=120)
    assert pod["spec"]["nodeName"] == NODE_NAME
    address = pod["status"]["podIP"]

    status, page = fetch(f"http://{address}:{labels.NOVNC_PORT}/vnc.html")
    assert status == 200 and b"noVNC" in page
    status, png = fetch(f"http://{address}:{labels.AGENT_PORT}/thumbnail.png")
    thumbnail = Image.open(io.BytesIO(png)).convert("RGB")
    colours = thumbnail.getcolors(maxcolors=1 << 16) or []
    assert status == 200 and len(colours) > 50, "the desktop should be drawn, not blank"

