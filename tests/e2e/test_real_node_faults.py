"""Faults on the real node, where a kubelet really pulls and starts containers (KWOK would
report both hostile profiles below as running), with the chart installed as `make demo`
installs it and one demo seat.

- A desktop pod killed under an open browser page: the page says "reconnecting" and shows
  the desktop again by itself, with the same home and the same seat.
- Specs the schema admits but the cluster cannot run: a profile whose image the registry
  lacks, and one whose image starts and exits at once (busybox: no desktop to run). Each
  course ends in a Degraded condition naming the cause within a bounded time, while the
  demo seat beside them stays Running."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from arcdesk.api import labels
from devcluster import demo, desktops
from devcluster.kit import Kubectl, wait_for
from tests.cluster.operator_helpers import condition
from tests.e2e.conftest import ON_REAL_NODE
from tests.e2e.stack import RunningCourse, installed_course

REPORT_BOUND = 120.0  # seconds from `kubectl apply` to the condition (kubelet backoff 10 s+)
MISSING_DIGEST = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def one_seat_stack(kubectl: Kubectl, real_node: dict, demo_images: demo.Images,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCourse]:
    with installed_course(kubectl, demo_images, tmp_path_factory.mktemp("hostile"), "base",
                          seats=1) as course:
        yield course


def profile(name: str, image: str, pull_policy: str) -> dict[str, Any]:
    return {"apiVersion": labels.API_VERSION, "kind": "DesktopProfile",
            "metadata": {"name": name},
            "spec": {"image": image, "imagePullPolicy": pull_policy,
                     "resources": {"cpu": "100m", "memory": "256Mi"}, **ON_REAL_NODE}}


def course(name: str, namespace: str, profile_name: str) -> dict[str, Any]:
    return {"apiVersion": labels.API_VERSION, "kind": "Course",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"title": f"hostile {name}", "profile": profile_name, "seats": {"count": 1},
                     "storage": {"size": "1Gi", "storageClassName": "devcluster-real-local",
                                 "reclaimPolicy": "Delete"}}}


def degraded(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    return condition(kubectl.get_json("courses.arcdesk.dev", name, "-n", namespace),
                     "Degraded")


def test_a_missing_image_and_a_crashing_one_end_in_conditions_that_name_them(
        one_seat_stack: RunningCourse, kubectl: Kubectl, busybox_image: str,
        pushed_busybox: str) -> None:
    ns, tag = one_seat_stack.namespace, secrets.token_hex(3)
    missing = f"{pushed_busybox.split('@')[0]}@{MISSING_DIGEST}"
    cases = {  # course name -> (profile, the Degraded reasons that say why, in the message)
        f"nopull-{tag}": (profile(f"e2e-nopull-{tag}", missing, "IfNotPresent"),
                          {"ImagePullBackOff"}, MISSING_DIGEST),
        f"crash-{tag}": (profile(f"e2e-crash-{tag}", busybox_image, "Never"),
                         {"CrashLoopBackOff", "ContainerError"}, ""),
    }
    try:
        for name, (spec, _, _) in cases.items():
            kubectl.apply(spec)
            kubectl.apply(course(name, ns, spec["metadata"]["name"]))
        applied, took = time.monotonic(), {}
        for name, (_, reasons, named) in cases.items():
            wait_for(f"course {name} Degraded", lambda n=name, r=reasons: degraded(
                kubectl, ns, n).get("reason") in r, timeout=REPORT_BOUND, interval=1)
            took[name] = time.monotonic() - applied
            condition = degraded(kubectl, ns, name)
            assert condition["status"] == "True" and named in condition["message"], condition
        print(f"hostile specs reported after: { {n: round(t, 1) for n, t in took.items()} }")
        assert one_seat_stack.ready_pod("seat-001")["status"]["phase"] == "Running"
    finally:
        for name, (spec, _, _) in cases.items():
            kubectl.run("delete", "courses.arcdesk.dev", name, "-n", ns, "--wait=true",
                        check=False)
            kubectl.run("delete", "desktopprofiles.arcdesk.dev", spec["metadata"]["name"],
                        check=False)


def test_a_desktop_pod_killed_under_an_open_page_comes_back_with_the_same_home(
        one_seat_stack: RunningCourse, kubectl: Kubectl, browser: Any) -> None:
    course, seat, note = one_seat_stack, "seat-001", secrets.token_hex(8)
    name, ns = course.seat_name(seat), course.namespace
    kubectl.run("exec", name, "-n", ns, "--", "sh", "-c", f'echo {note} > "$HOME/kept.txt"')
    seat_uid = kubectl.get_json("seats.arcdesk.dev", name, "-n", ns)["metadata"]["uid"]
    page = browser.new_page()
    page.goto(course.links.trainees[seat])
    desktops.connect_from_landing(page)
    desktops.wait_gateway_connected(page)
    old = course.pod(seat)["metadata"]["uid"]

    kubectl.run("delete", "pod", name, "-n", ns, "--grace-period=0", "--force",
                "--wait=false")
    killed = time.monotonic()
    page.wait_for_function("() => document.body.dataset.state === 'reconnecting'",
                           timeout=30000)
    course.ready_pod(seat, other_than=old)
    ready = time.monotonic() - killed
    desktops.wait_gateway_connected(page, timeout_ms=60000)  # its retries: 1, 2, 4, 8, 10 s
    shown = time.monotonic() - killed
    problems = desktops.desktop_problems_after(page, 30, desktops.GATEWAY_SCREEN)
    assert not problems, f"the reconnected page does not show the desktop: {problems}"
    print(f"desktop pod killed: new pod Ready after {ready:.1f} s, page connected after "
          f"{shown:.1f} s")
    assert course.home_file(seat, "kept.txt") == f"{note}\n"
    assert kubectl.get_json("seats.arcdesk.dev", name, "-n", ns)["metadata"]["uid"] == seat_uid
    page.close()
