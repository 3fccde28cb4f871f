"""A watch on a connection that died without a FIN (a NAT entry flushed, a node's link gone)
sends nothing, ever: the gateway must notice by the stream's silence, not wait out its
290 s, and must stay live meanwhile. The fault is caused for real: the gateway talks to the
real API server through a loopback TCP relay that, while "cut", swallows every byte of the
connections open at that moment, for good, as a dead network path does."""

from __future__ import annotations

import socket
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from devcluster.kit import ARCDESK, free_port, gateway_indexed, wait_for
from tests.cluster.operator_helpers import Namespace

INACTIVITY = 2  # --watch-inactivity: the API server's bookmarks come about once a minute


class DeadPathRelay:
    """127.0.0.1:<port> -> ``target``; ``cut()`` kills every connection open at that moment
    (their bytes vanish, nothing is closed); connections opened later relay normally."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.generation = 0  # a connection from an older generation than `dead_before` is dead
        self.dead_before = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.dead_before = self.generation + 1

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.generation += 1
            upstream = socket.create_connection(self.target)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, self.generation),
                                 daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, generation: int) -> None:
        try:
            while data := src.recv(65536):
                if generation >= self.dead_before:
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                sock.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def relay(kubeconfig: Path) -> Iterator[DeadPathRelay]:
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    host, port = server.removeprefix("https://").rsplit(":", 1)
    found = DeadPathRelay((host, int(port)))
    yield found
    found.close()


def relayed_kubeconfig(kubeconfig: Path, relay: DeadPathRelay, path: Path) -> Path:
    """The devcluster's kubeconfig pointed at the relay (its certificate names 127.0.0.1)."""
    config = yaml.safe_load(kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{relay.port}"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def live(metrics_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/healthz",
                                    timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_gateway_resumes_a_dead_watch_and_stays_live_meanwhile(
        kubeconfig: Path, relay: DeadPathRelay, namespace: str, api: client.ApiClient,
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
