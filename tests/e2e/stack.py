"""The demo's stack as a test fixture: charts/arcdesk installed with Helm (operator and gateway
pods on the real node, by digest from the devcluster registry), examples/profile-demo-base.yaml and
examples/course-demo.yaml (two seats) — run by devcluster/demo.py's own :class:`Stack`, in a
namespace, state directory and NodePort of the test's own, so `make demo` and this tier
install the same thing.

Import the fixture into a test module: ``from tests.e2e.stack import demo_stack``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devcluster import demo
from devcluster.kit import Kubectl, wait_for
from tests.e2e.conftest import NODE_NAME


@dataclass
class RunningCourse:
    stack: demo.Stack
    kubectl: Kubectl
    name: str
    links: demo.Links

    @property
    def namespace(self) -> str:
        return self.stack.namespace

    def seat_name(self, seat: str) -> str:
        return f"{self.name}-{seat}"

    def pod(self, seat: str) -> dict[str, Any]:
        found: dict[str, Any] = self.kubectl.get_json("pod", self.seat_name(seat),
                                                      "-n", self.namespace)
        return found

    def ready_pod(self, seat: str, other_than: str = "", timeout: float = 120) -> dict[str, Any]:
        """The seat's pod once Ready on the real node (``other_than``: not this pod uid)."""
        def probe() -> dict[str, Any] | None:
            result = self.kubectl.run("get", "pod", self.seat_name(seat), "-n",
                                      self.namespace, "-o", "json", check=False)
            if result.returncode != 0:
                return None
            pod = self.pod(seat)
            ready = any(c["type"] == "Ready" and c["status"] == "True"
                        for c in pod["status"].get("conditions", []))
            fresh = pod["metadata"]["uid"] != other_than
            return pod if ready and fresh else None
        pod = wait_for(f"the desktop pod of {seat} Ready", probe, timeout=timeout)
        assert pod["spec"]["nodeName"] == NODE_NAME
        return pod

    def home_file(self, seat: str, path: str) -> str | None:
        """A file in the seat's home as the desktop sees it (None: no such file)."""
        result = self.kubectl.run("exec", self.seat_name(seat), "-n", self.namespace, "--",
                                  "sh", "-c", f'cat "$HOME/{path}"', check=False)
        return str(result.stdout) if result.returncode == 0 else None


@contextlib.contextmanager
def installed_course(kubectl: Kubectl, images: demo.Images, state: Path, profile: str,
                     seats: int | None = None) -> Iterator[RunningCourse]:
    """arcdesk installed with the chart as `make demo` installs it (desktop ``profile``), and
    the demo course Ready on the real node, in a fresh namespace; uninstalled afterwards."""
    stack = demo.Stack(namespace=f"e2e-{profile}-{secrets.token_hex(3)}", state=state,
                       node_port=0, profile=profile)
    try:
        stack.check_prerequisites()
        stack.install(images)
        name = stack.apply_course(timeout=240, seats=seats)
        course = RunningCourse(stack, kubectl, name, stack.links(name))
    except demo.DemoError as error:
        _show_logs(stack)
        stack.uninstall(wait=False)
        pytest.fail(str(error), pytrace=False)
    try:
        yield course
    finally:
        _show_logs(stack)  # shown when a test fails
        stack.uninstall(wait=False)


@pytest.fixture(scope="module")
def demo_stack(kubectl: Kubectl, real_node: dict, demo_images: demo.Images,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCourse]:
    """`make demo DEMO_PROFILE=base`: the chart and the 2-seat demo course, per module."""
    with installed_course(kubectl, demo_images, tmp_path_factory.mktemp("stack"),
                          "base") as course:
        yield course


def _show_logs(stack: demo.Stack) -> None:
    for component in ("operator", "gateway"):
        print(f"--- {component} pod logs (tail) ---\n{stack.logs(component)}")
