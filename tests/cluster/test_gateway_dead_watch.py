"""A watch on a connection that died without a FIN (a NAT entry flushed, a node's link gone)
sends nothing, ever: the gateway must notice by the stream's silence, not wait out its
290 s, and must stay live meanwhile. The fault is caused for real: the gateway talks to the
real API server through a loopback TCP relay that, while "cut", swallows every byte of the
connections open at that moment, for good, as a dead network path does."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from devcluster.kit import ARCDESK, free_port, gateway_indexed, wait_for
from tests.cluster.operator_helpers import Namespace
from tests.relay import Relay, relayed_kubeconfig

INACTIVITY = 2  # --watch-inactivity: the API server's bookmarks come about once a minute


@pytest.fixture
def relay(kubeconfig: Path) -> Iterator[Relay]:
    found = Relay.to_apiserver(kubeconfig)
    yield found
    found.close()


def live(metrics_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/healthz",
                                    timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_gateway_resumes_a_dead_watch_and_stays_live_meanwhile(
        kubeconfig: Path, relay: Relay, namespace: str, api: client.ApiClient,
        tmp_path: Path) -> None:
    port, metrics_port, log = free_port(), free_port(), tmp_path / "gateway.log"
    config = relayed_kubeconfig(kubeconfig, relay, tmp_path / "relayed.kubeconfig")
    courses = Namespace(api, namespace)
    with log.open("wb") as out:
        gateway = subprocess.Popen(
            [str(ARCDESK), "gateway", "run", "--port", str(port), "--metrics-host", "127.0.0.1",
             "--metrics-port", str(metrics_port), "--namespace", namespace,
             "--kubeconfig", str(config), "--watch-inactivity", str(INACTIVITY)],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        courses.create_course("before", "base", {"count": 1})
        wait_for("the gateway indexing the first course",
                 lambda: gateway_indexed(metrics_port).get("courses") == 1, timeout=30)
        relay.cut()  # every open watch (and pooled connection) is now a dead path
        courses.create_course("after", "base", {"count": 1})
        # Without the silence check the dead streams would hold until their 290 s + 30 s end.
        wait_for("the gateway indexing the course made on the dead path",
                 lambda: gateway_indexed(metrics_port).get("courses") == 2, timeout=60)
        assert live(metrics_port), "liveness failed while the watches recovered"
        assert gateway.poll() is None, log.read_text()[-2000:]
    finally:
        gateway.terminate()
        gateway.wait(timeout=15)
