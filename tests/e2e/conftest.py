"""e2e tier fixtures: the devcluster's real node and images imported into its containerd.

`make test-e2e` starts the devcluster and its real node first; run alone, the tier fails
(never skips) with a message saying what to start.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devcluster import demo, kit

REPO = Path(__file__).resolve().parents[2]
# The same variable moves the devcluster's state for the launchers (a second cluster).
STATE = Path(os.environ.get("ARCDESK_DEVCLUSTER_DIR") or REPO / ".devcluster")
KUBECONFIG = STATE / "kubeconfig"
NODE_NAME = "arcdesk-real-0"
# What a pod needs to run on the real node (it is tainted so KWOK workloads stay off it).
ON_REAL_NODE = {
    "nodeSelector": {"arcdesk.dev/node-pool": "real"},
    "tolerations": [{"key": "arcdesk.dev/real-node", "operator": "Exists",
                     "effect": "NoSchedule"}],
}
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False, "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
}


@pytest.fixture(scope="session")
def kubectl() -> kit.Kubectl:
    if not KUBECONFIG.exists() or not kit.apiserver_ready(KUBECONFIG):
        pytest.fail(f"the devcluster is not up (no ready API server for {KUBECONFIG}): "
                    "run `make realnode-up`")
    return kit.Kubectl(STATE / "bin" / "kubectl", KUBECONFIG)


@pytest.fixture(scope="session")
def real_node(kubectl: kit.Kubectl) -> dict:
    """The real node's Node object; fails unless it exists and is Ready."""
    found = kubectl.run("get", "node", NODE_NAME, "-o", "json", check=False)
    if found.returncode != 0:
        pytest.fail(f"no node {NODE_NAME} in the devcluster: run `make realnode-up`")
    node = kubectl.get_json("node", NODE_NAME)
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    if not ready or ready[0]["status"] != "True":
        pytest.fail(f"node {NODE_NAME} is not Ready: run `make realnode-up` "
                    f"(logs in {STATE / 'logs' / 'kubelet.log'})")
    return node


@pytest.fixture(scope="session")
def local_volumes(kubectl: kit.Kubectl, real_node: dict) -> int:
    """Unclaimed local volumes on the real node (Retain: each claim uses one up for good)."""
    volumes = kubectl.get_json("pv", "-l", f"arcdesk.dev/devcluster-real-pv={NODE_NAME}")
    free = sum(1 for pv in volumes["items"] if not pv["spec"].get("claimRef"))
    if free < 4:
        pytest.fail(f"only {free} unclaimed local PersistentVolumes on {NODE_NAME}: "
                    "run `make realnode-up` to top the pool up")
    return free


def import_image(builder: list[str]) -> str:
    """Run an image builder (prints "<tarball>\\t<name>"), import the result, return the name."""
    built = subprocess.run(builder, capture_output=True, text=True, timeout=3600)
    assert built.returncode == 0, built.stderr
    tarball, name = built.stdout.split()[-2:]
    imported = subprocess.run(
        [sys.executable, "-m", "devcluster.node_launcher", "import", tarball, name],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return name


@pytest.fixture(scope="session")
def busybox_image(real_node: dict) -> str:
    """Debian's static busybox as a local image in the real node's containerd."""
    return import_image([sys.executable, str(REPO / "images" / "build" / "busybox_image.py")])


@pytest.fixture(scope="session")
def pushed_busybox(real_node: dict) -> str:
    """Debian's static busybox pushed to the devcluster registry: its digest reference."""
    built = subprocess.run([sys.executable, str(REPO / "images" / "build" / "busybox_image.py")],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    pushed = subprocess.run(
        [sys.executable, "-m", "devcluster.registry", "push", built.stdout.split()[0],
         "arcdesk/busybox:e2e"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert pushed.returncode == 0, pushed.stderr
    return pushed.stdout.strip()


@pytest.fixture(scope="session")
def demo_images(real_node: dict) -> demo.Images:
    """The operator and base desktop images, built (cached) and pushed as `make demo
    DEMO_PROFILE=base` does: the stories and day-2 tests need a light desktop (four seats
    share the 2-core real node); test_bioimage_desktop.py runs the bioimage one."""
    try:
        return demo.push_images("base")
    except demo.DemoError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def namespace(kubectl: kit.Kubectl) -> Iterator[str]:
    """A fresh namespace enforcing Pod Security `restricted`, deleted (without waiting) after."""
    name = f"e2e-{secrets.token_hex(4)}"
    kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": name, "labels": {"pod-security.kubernetes.io/enforce": "restricted",
                                 "arcdesk.dev/test": "true"}}})
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Debian Chromium (never a downloaded one), launched as the desktop tier
    launches it, one fresh profile per module: a trainee's and the instructor's cookies
    live side by side in it, as in one person's browser."""

    if not Path(kit.CHROMIUM).exists():
        pytest.fail(f"{kit.CHROMIUM} missing: run `make desktop-deps` (Debian chromium)")
    with kit.chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()
