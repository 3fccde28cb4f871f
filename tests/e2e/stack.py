"""The demo's stack as a test fixture: `arcdesk operator run` and `arcdesk gateway run` as
processes, examples/profile-demo.yaml and examples/course-demo.yaml (two seats on the real
node) — run by devcluster/demo.py's own :class:`Stack`, in a namespace, state directory and
gateway port of the test's own, so `make demo` and this tier run the same thing.

Import the fixture into a test module: ``from tests.e2e.stack import demo_stack``.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devcluster import demo, kit
from devcluster.kit import Kubectl, wait_for
from tests.e2e.conftest import NODE_NAME

DESKTOP_IMAGE = "localhost/arcdesk/desktop-base:0.1.0"


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


def import_demo_image() -> None:
    """What `make image-import PROFILE=base` does: build (cached) and import as :0.1.0."""
    built = subprocess.run([sys.executable, str(demo.REPO / "images" / "build" /
                                                "desktop_image.py"), "base"],
                           capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, f"building the base desktop image failed:\n{built.stderr}"
    imported = subprocess.run(
        [sys.executable, "-m", "devcluster.node_launcher", "import",
         *built.stdout.split()[-2:], "--alias", DESKTOP_IMAGE],
        cwd=demo.REPO, capture_output=True, text=True, timeout=900)
    assert imported.returncode == 0, imported.stdout + imported.stderr


@pytest.fixture(scope="module")
def demo_stack(kubectl: Kubectl, real_node: dict,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCourse]:
    """Operator + gateway + the demo course (2 seats Ready on the real node) in a fresh
    namespace; everything stopped and deleted after the module."""
    stack = demo.Stack(namespace=f"e2e-story-{secrets.token_hex(3)}",
                       state=tmp_path_factory.mktemp("stack"), gateway_port=kit.free_port())
    import_demo_image()
    try:
        stack.check_prerequisites()
        stack.install()
        stack.start_operator()
        stack.start_gateway()
        name = stack.apply_course(timeout=180)
        course = RunningCourse(stack, kubectl, name, stack.links(name))
    except demo.DemoError as error:
        stack.stop()
        pytest.fail(str(error), pytrace=False)
    try:
        yield course
    finally:
        kubectl.run("delete", "namespace", stack.namespace, "--wait=false", check=False)
        stack.stop()
        for log in (stack.operator.log, stack.gateway.log):
            print(f"--- {log.name} (tail) ---\n{_tail(log)}")  # shown when a test fails


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])
