"""A real desktop pod on the real node, rendered by the operator's own builders from the
locally built base image: it becomes Ready, Chromium sees its XFCE desktop through noVNC
at <pod IP>:6080, its agent's thumbnail is drawn, and its home outlives the pod."""

from __future__ import annotations

import io
import secrets
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from arcdesk.api import labels
from arcdesk.api.credentials import SeatCredentials
from arcdesk.api.model import parse_course, parse_profile
from arcdesk.build import desired, profiles
from devcluster import desktops
from devcluster.kit import Kubectl, wait_for
from tests.e2e.conftest import NODE_NAME, ON_REAL_NODE, REPO, import_image

VNC_PASSWORD = "vnc-e2e-1"


@dataclass
class DesktopSeat:
    namespace: str
    objects: list[dict[str, Any]]

    @property
    def pod(self) -> dict[str, Any]:
        return next(m for m in self.objects if m["kind"] == "Pod")

    @property
    def name(self) -> str:
        return str(self.pod["metadata"]["name"])


@pytest.fixture(scope="module")
def base_desktop_image(real_node: dict) -> str:
    """images/desktop/Dockerfile target `base`, built with buildah (cached) and imported."""
    return import_image([sys.executable, str(REPO / "images" / "build" / "desktop_image.py"),
                         "base"])


@pytest.fixture(scope="module")
def seat(kubectl: Kubectl, base_desktop_image: str, local_volumes: int,
         ) -> Iterator[DesktopSeat]:
    namespace = f"e2e-desk-{secrets.token_hex(3)}"
    kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": namespace, "labels": {"pod-security.kubernetes.io/enforce": "restricted",
                                      "arcdesk.dev/test": "true"}}})
    found = DesktopSeat(namespace, seat_objects(namespace, base_desktop_image))
    for manifest in found.objects:
        kubectl.apply(manifest, "-n", namespace)
    yield found
    kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)


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
        SeatCredentials(VNC_PASSWORD, "view-e2e", "t" * 43), seat_owner=None)
    for manifest in objects:
        if manifest["kind"] == "Pod":  # the pod template has no tolerations (yet)
            manifest["spec"]["tolerations"] = ON_REAL_NODE["tolerations"]
    return objects


def ready_pod(kubectl: Kubectl, seat: DesktopSeat) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        pod: dict[str, Any] = kubectl.get_json("pod", seat.name, "-n", seat.namespace)
        ok = any(c["type"] == "Ready" and c["status"] == "True"
                 for c in pod["status"].get("conditions", []))
        return pod if ok else None
    pod = wait_for(f"desktop pod {seat.name} Ready", probe, timeout=120)
    assert pod["spec"]["nodeName"] == NODE_NAME
    return pod


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_desktop_pod_serves_novnc_and_a_drawn_thumbnail(
        kubectl: Kubectl, seat: DesktopSeat) -> None:
    address = ready_pod(kubectl, seat)["status"]["podIP"]
    status, page = fetch(f"http://{address}:{labels.NOVNC_PORT}/vnc.html")
    assert status == 200 and b"noVNC" in page

    def drawn() -> int | None:  # Ready means display and websockify up; XFCE may still paint
        status, png = fetch(f"http://{address}:{labels.AGENT_PORT}/thumbnail.png")
        image = Image.open(io.BytesIO(png)).convert("RGB")
        colours = len(image.getcolors(maxcolors=1 << 16) or [])
        return colours if status == 200 and colours > 50 else None
    wait_for("the agent's thumbnail to show a drawn desktop", drawn, timeout=30)


def test_chromium_sees_the_desktop_at_the_pod_ip(
        kubectl: Kubectl, seat: DesktopSeat, page: Any) -> None:
    address = ready_pod(kubectl, seat)["status"]["podIP"]
    page.goto(f"http://{address}:{labels.NOVNC_PORT}/vnc.html?autoconnect=true"
              f"&reconnect=false&resize=off&password={VNC_PASSWORD}")
    desktops.wait_connected(page)
    problems = desktops.desktop_problems_after(page)
    assert not problems, f"browser canvas is not the desktop: {problems}"


def test_home_outlives_the_pod(kubectl: Kubectl, seat: DesktopSeat) -> None:
    ready_pod(kubectl, seat)
    home = seat.pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"]
    kubectl.run("exec", seat.name, "-n", seat.namespace, "--",
                "sh", "-c", f"echo kept > {home}/e2e-note.txt")
    kubectl.run("delete", "pod", seat.name, "-n", seat.namespace, "--wait=true")
    kubectl.apply(seat.pod, "-n", seat.namespace)
    ready_pod(kubectl, seat)
    note = kubectl.run("exec", seat.name, "-n", seat.namespace, "--",
                       "cat", f"{home}/e2e-note.txt").stdout
    assert note == "kept\n"
