"""A loopback TCP relay in front of the devcluster's API server, for network faults caused
for real: a client is pointed at it (``relayed_kubeconfig``) and the relay breaks the path.

- ``cut()``: every connection open at that moment dies as a dead path does (a NAT entry
  flushed): its bytes vanish and nothing is closed; connections opened later relay normally.
- ``partition()`` / ``heal()``: no byte moves in either direction, on open or new
  connections, until healed; then the held bytes flow on, as after a link comes back
  within TCP's retransmission time. One difference from a real partition: a new connection
  is accepted at once (a real one would wait in SYN retransmits), then hangs the same way.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import yaml


class Relay:
    """127.0.0.1:<port> -> ``target``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.generation = 0  # a connection from an older generation than `dead_before` is dead
        self.dead_before = 0
        self.path_up = threading.Event()
        self.path_up.set()
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def to_apiserver(cls, kubeconfig: Path) -> Relay:
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        host, port = server.removeprefix("https://").rsplit(":", 1)
        return cls((host, int(port)))

    def cut(self) -> None:
        self.dead_before = self.generation + 1

    def partition(self) -> None:
        self.path_up.clear()

    def heal(self) -> None:
        self.path_up.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.generation += 1
            threading.Thread(target=self._connect, args=(client, self.generation),
                             daemon=True).start()

    def _connect(self, client: socket.socket, generation: int) -> None:
        self.path_up.wait()
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst, generation),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, generation: int) -> None:
        try:
            while data := src.recv(65536):
                self.path_up.wait()
                if generation >= self.dead_before:
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                sock.close()

    def close(self) -> None:
        self.path_up.set()
        self.listener.close()


def relayed_kubeconfig(kubeconfig: Path, relay: Relay, path: Path) -> Path:
    """The devcluster's kubeconfig pointed at the relay (its certificate names 127.0.0.1)."""
    config = yaml.safe_load(kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{relay.port}"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
