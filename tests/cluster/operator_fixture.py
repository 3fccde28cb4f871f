"""The operator as a user runs it: `arcdesk operator run --namespace NS` in a subprocess
against the devcluster, plus a DesktopProfile of its own per test.

Import the fixtures into a test module with
``from tests.cluster.operator_fixture import operator_fixture, profile_fixture  # noqa: F401``
and ask for them as ``operator`` and ``profile``.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.cluster.kube_helpers import wait_for

ARCDESK = Path(sys.executable).parent / "arcdesk"
TEST_IMAGE = "localhost/arcdesk/desktop-base:test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OperatorProcess:
    """One `arcdesk operator run` subprocess; its log goes to ``log``."""

    def __init__(self, kubeconfig: Path, namespaces: list[str], log: Path,
                 *extra: str) -> None:
        self.kubeconfig, self.namespaces, self.log = kubeconfig, namespaces, log
        self.extra = extra  # more `operator run` options
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [str(ARCDESK), "operator", "run", "--probe-host", "127.0.0.1",
                "--probe-port", str(self.port)]
        for namespace in self.namespaces:
            args += ["--namespace", namespace]
        args += self.extra
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for("the operator's /healthz", self.healthy, timeout=30, interval=0.2)

    def _get(self, path: str) -> str:
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise AssertionError(f"the operator exited; log:\n{self.log_tail()}")
        try:
            return self._get("/healthz").strip() == "ok"
        except OSError:
            return False

    def metrics(self) -> str:
        return self._get("/metrics")

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample of /metrics (0 when absent)."""
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in self.metrics().splitlines():
            sample, _, value = line.rpartition(" ")
            metric, _, rest = sample.partition("{")
            if metric == name and sorted(rest.rstrip("}").split(",")) == sorted(
                    wanted.split(",")):
                return float(value)
        return 0.0

    def kill(self) -> None:
        """SIGKILL, as a node failure or OOM kill would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(name="operator")
def operator_fixture(kubeconfig: Path, namespace: str, tmp_path: Path) -> Iterator[OperatorProcess]:
    """The operator serving ``namespace``; stopped (SIGTERM) after the test."""
    process = OperatorProcess(kubeconfig, [namespace], tmp_path / "operator.log")
    process.start()
    yield process
    process.stop()
    print(f"--- operator log (tail) ---\n{process.log_tail()}")  # shown when a test fails


@pytest.fixture(name="profile")
def profile_fixture(api: client.ApiClient, crds: list[str]) -> Iterator[str]:
    """A DesktopProfile of this test's own (profiles are cluster-scoped)."""
    name = f"t-{secrets.token_hex(4)}"
    custom = client.CustomObjectsApi(api)
    custom.create_cluster_custom_object("arcdesk.dev", "v1alpha1", "desktopprofiles", {
        "apiVersion": "arcdesk.dev/v1alpha1", "kind": "DesktopProfile",
        "metadata": {"name": name, "labels": {"arcdesk.dev/test": "true"}},
        "spec": {"image": TEST_IMAGE, "resources": {"cpu": "10m", "memory": "64Mi"}},
    })
    yield name
    try:
        custom.delete_cluster_custom_object("arcdesk.dev", "v1alpha1", "desktopprofiles", name)
    except client.ApiException as error:
        if error.status != 404:
            raise
