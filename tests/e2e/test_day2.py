"""Day-2 operations on the chart install, with trainees connected: `helm upgrade` to a rebuilt
operator image and `helm rollback` replace the operator and gateway pods but restart no
desktop and change no seat, link or home, and the open desktops reconnect by themselves;
with two operator replicas, a crashed leader's lease moves to another within 15 s; deleting
the operator pod while a course scales from 2 to 4 seats ends with exactly 4 seats.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from arcdesk.api import labels
from devcluster import demo, desktops
from devcluster.kit import wait_for
from tests.e2e.stack import RunningCourse, demo_stack

__all__ = ["demo_stack"]

SEATS = ("seat-001", "seat-002")


def seats_of(course: RunningCourse) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = course.kubectl.get_json(
        "seats.arcdesk.dev", "-n", course.namespace, "-l",
        f"{labels.COURSE}={course.name}")["items"]
    return found


def what_trainees_have(course: RunningCourse) -> dict[str, Any]:
    """Per seat: the Seat, its desktop pod (and restarts), its home claim, its link."""
    pods = {seat: course.pod(seat) for seat in SEATS}
    claims = course.kubectl.get_json("pvc", "-n", course.namespace)["items"]
    return {
        "seats": sorted(s["metadata"]["uid"] for s in seats_of(course)),
        "pods": {seat: (pod["metadata"]["uid"],
                        [c["restartCount"] for c in pod["status"]["containerStatuses"]])
                 for seat, pod in pods.items()},
        "homes": sorted(c["metadata"]["uid"] for c in claims),
        "links": course.links.trainees,
    }


def rebuild(reference: str, note: str, scratch: Path) -> str:
    """A rebuilt operator image: the pushed one plus a label, so a new config and a new digest
    (what `helm upgrade` sees of any rebuild), pushed beside it; its digest reference."""
    buildah = ["buildah", "--root", str(scratch / "root"), "--runroot", str(scratch / "run"),
               "--storage-driver", "vfs"]
    repository = reference.split("@")[0]
    digest_file = scratch / "digest"

    def run(*args: str) -> str:
        done = subprocess.run([*buildah, *args], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"buildah {args[0]}: {done.stderr.strip()}"
        return done.stdout.strip()
    container = run("from", "--quiet", "--tls-verify=false", f"docker://{reference}")
    run("config", "--label", f"arcdesk.dev/rebuilt={note}", container)
    run("commit", "--quiet", container, "localhost/rebuilt:latest")
    run("push", "--quiet", "--tls-verify=false", "--digestfile", str(digest_file),
        "localhost/rebuilt:latest", f"docker://{repository}:{note}")
    return f"{repository}@{digest_file.read_text().strip()}"


def release_pods(stack: demo.Stack) -> dict[str, set[str]]:
    return {component: {p["metadata"]["uid"] for p in stack.pods(component)}
            for component in ("operator", "gateway")}


def running_image(stack: demo.Stack) -> set[str]:
    return {pod["spec"]["containers"][0]["image"] for component in ("operator", "gateway")
            for pod in stack.pods(component)}


def open_desktops(course: RunningCourse, browser: Any) -> list[Any]:
    pages = []
    for seat in SEATS:
        page = browser.new_page()
        page.goto(course.links.trainees[seat])
        desktops.connect_from_landing(page)
        desktops.wait_gateway_connected(page)
        pages.append(page)
    return pages


def assert_reconnected(pages: list[Any]) -> None:
    """Each trainee looks at their tab (a background tab's timers are throttled): it shows
    the desktop again without a reload."""
    for page in pages:
        page.bring_to_front()
        try:
            desktops.wait_gateway_connected(page, timeout_ms=60000)
        except Exception as error:
            state = page.evaluate("() => [document.body.dataset.state, "
                                  "document.getElementById('status').textContent]")
            raise AssertionError(f"the page did not reconnect: {state}") from error
        problems = desktops.desktop_problems_after(page, 30, desktops.GATEWAY_SCREEN)
        assert not problems, f"the reconnected page does not show the desktop: {problems}"


def roll_to(stack: demo.Stack, before: dict[str, set[str]], *helm_args: str) -> None:
    """Run a helm upgrade/rollback and wait until only new operator and gateway pods run."""
    stack.helm(*helm_args, "-n", stack.namespace, "--wait", "--timeout", "180s")
    wait_for("only new operator and gateway pods", lambda: all(
        now and not now & before[component]
        for component, now in release_pods(stack).items()), timeout=90, interval=1)


def test_upgrade_and_rollback_keep_every_desktop_seat_link_and_home(
        demo_stack: RunningCourse, demo_images: demo.Images, browser: Any,
        tmp_path: Path) -> None:
    stack, note = demo_stack.stack, f"day2-{secrets.token_hex(4)}"
    for seat in SEATS:
        demo_stack.kubectl.run("exec", demo_stack.seat_name(seat), "-n", stack.namespace,
                               "--", "sh", "-c", f'echo {note} > "$HOME/day2.txt"')
    pages = open_desktops(demo_stack, browser)
    before = what_trainees_have(demo_stack)
    rebuilt = rebuild(demo_images.operator, note, tmp_path)
    assert rebuilt != demo_images.operator
    repository, digest = rebuilt.split("@")

    roll_to(stack, release_pods(stack), "upgrade", stack.release, str(demo.CHART),
            "--reuse-values", "--set", f"image.repository={repository}",
            "--set", f"image.digest={digest}")
    assert running_image(stack) == {rebuilt}
    assert_reconnected(pages)
    assert what_trainees_have(demo_stack) == before

    roll_to(stack, release_pods(stack), "rollback", stack.release, "1")
    assert running_image(stack) == {demo_images.operator}
    assert_reconnected(pages)
    assert what_trainees_have(demo_stack) == before
    for seat in SEATS:
        assert demo_stack.home_file(seat, "day2.txt") == f"{note}\n"
    for page in pages:
        page.close()


def lease_holder(stack: demo.Stack) -> str:
    lease = json.loads(stack.kubectl("get", "lease", f"{stack.release}-operator", "-n",
                                     stack.namespace, "-o", "json"))
    return str(lease["spec"].get("holderIdentity") or "")


def kill_operator_process(pod: dict[str, Any]) -> int:
    """SIGKILL, from the node, the `arcdesk operator run` process of ``pod`` (a crash: no
    chance to release the lease; tini, the container's init, then exits with it); the
    number of processes killed."""
    mark, killed = pod["metadata"]["uid"], 0
    for entry in Path("/proc").iterdir():
        try:
            cgroup = (entry / "cgroup").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        argv0 = command.split(b" ", 1)[0]
        if mark in cgroup.replace("_", "-") and b"operator run" in command \
                and not argv0.endswith(b"tini"):  # the arcdesk process, not its init
            os.kill(int(entry.name), signal.SIGKILL)
            killed += 1
    return killed


def test_two_replicas_each_gateway_opens_every_link_and_a_crashed_leader_hands_over(
        demo_stack: RunningCourse) -> None:
    stack = demo_stack.stack
    stack.helm("upgrade", stack.release, str(demo.CHART), "-n", stack.namespace,
               "--reuse-values", "--set", "operator.replicas=2", "--set", "gateway.replicas=2",
               "--wait", "--timeout", "180s")
    gateways = stack.pods("gateway")
    assert len(gateways) == 2
    stack.links(demo_stack.name)  # waits until both replicas indexed the course
    for pod, link in itertools.product(gateways, demo_stack.links.trainees.values()):
        direct = link.replace(stack.gateway_url, f"http://{pod['status']['podIP']}:"
                                                 f"{demo.container_port(pod, 'http')}")
        assert demo.http_status(direct) == 200, f"{pod['metadata']['name']} refused a link"

    pods = wait_for("two running operator pods", lambda: (
        found if len(found := [p for p in stack.pods("operator")
                               if p["status"].get("phase") == "Running"]) == 2 else None),
        timeout=90, interval=1)
    leader = wait_for("a lease holder", lambda: lease_holder(stack), timeout=30)
    [active] = [p for p in pods if leader.startswith(p["metadata"]["name"] + "_")]
    assert kill_operator_process(active) == 1
    crashed = time.monotonic()
    successor = wait_for("another replica to take the lease", lambda: (
        holder if (holder := lease_holder(stack)) and holder != leader else None),
        timeout=30, interval=0.5)
    took = time.monotonic() - crashed
    assert took <= 15, f"the lease moved from {leader} to {successor} after {took:.1f} s"


def test_operator_pod_deleted_while_scaling_from_2_to_4_ends_with_exactly_4_seats(
        demo_stack: RunningCourse) -> None:
    stack = demo_stack.stack
    stack.helm("upgrade", stack.release, str(demo.CHART), "-n", stack.namespace,
               "--reuse-values", "--set", "operator.replicas=1", "--set", "gateway.replicas=1",
               "--wait", "--timeout", "180s")  # room on the 2-core node for 4 desktops
    kept = {s["metadata"]["uid"] for s in seats_of(demo_stack)}
    assert len(kept) == 2
    stack.arcdesk("course", "scale", demo_stack.name, "--seats", "4", "-n", stack.namespace)
    stack.kubectl("delete", "pod", "-n", stack.namespace, "-l",
                  f"app.kubernetes.io/instance={stack.release},"
                  "app.kubernetes.io/component=operator", "--wait=false")

    def four_ready() -> list[dict[str, Any]] | None:
        seats = seats_of(demo_stack)
        ready = [s for s in seats if any(c["type"] == "Ready" and c["status"] == "True"
                                         for c in s.get("status", {}).get("conditions", []))]
        return seats if len(ready) == 4 else None
    seats = wait_for("4 Ready seats after the operator pod was replaced", four_ready,
                     timeout=240, interval=2)
    assert len(seats) == 4 and kept <= {s["metadata"]["uid"] for s in seats}
    pods = demo_stack.kubectl.get_json("pods", "-n", stack.namespace, "-l",
                                       f"{labels.COURSE}={demo_stack.name},"
                                       f"{labels.COMPONENT}={labels.DESKTOP_COMPONENT}")
    assert len(pods["items"]) == 4
