"""The session agent: a tiny HTTP server for health, activity (idle culling) and a thumbnail."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from arcdesk.session import image
from arcdesk.session.processes import Supervisor

THUMBNAIL_WIDTH = 320
TCP_ESTABLISHED = "01"


def established_on_port(proc_net_tcp: str, port: int) -> int:
    """Count ESTABLISHED sockets whose local port is ``port`` in /proc/net/tcp{,6} text."""
    count = 0
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or ":" not in fields[1]:
            continue
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == TCP_ESTABLISHED:
            count += 1
    return count


def viewer_count(rfb_port: int) -> int:
    """VNC viewers connected now: every viewer is one RFB connection to Xvnc (via websockify)."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            total += established_on_port(Path(table).read_text(), rfb_port)
        except OSError:
            continue
    return total


@dataclass
class AgentState:
    """What the handler needs; ``healthy`` and ``seeding`` are read live from the runtime."""

    supervisor: Supervisor
    env: Mapping[str, str]
    rfb_port: int
    display: str
    healthy: Callable[[], bool]
    seeding: Callable[[], str]

    def idle_ms(self) -> int:
        result = self.supervisor.run_tool(["xprintidle"], self.env)
        if result.returncode != 0:
            raise RuntimeError(f"xprintidle failed: {result.stderr.decode(errors='replace')}")
        return int(result.stdout.strip())

    def thumbnail_png(self) -> bytes:
        result = self.supervisor.run_tool(["xwd", "-root", "-silent"], self.env)
        if result.returncode != 0:
            raise RuntimeError(f"xwd failed: {result.stderr.decode(errors='replace')}")
        shot = image.parse_xwd(result.stdout)
        return image.encode_png(image.thumbnail(shot, THUMBNAIL_WIDTH))


class AgentHandler(BaseHTTPRequestHandler):
    server: AgentServer

    def do_GET(self) -> None:
        state = self.server.state
        path = self.path.split("?", 1)[0]
        try:
            if path == "/healthz":
                ok = state.healthy()
                body = {"ok": ok, "display": state.display, "seeding": state.seeding()}
                status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
                self._send(status, "application/json", json.dumps(body).encode())
            elif path == "/activity":
                body = {
                    "idle_ms": state.idle_ms(),
                    "viewers": viewer_count(state.rfb_port),
                    "display": state.display,
                }
                self._send(HTTPStatus.OK, "application/json", json.dumps(body).encode())
            elif path == "/thumbnail.png":
                self._send(HTTPStatus.OK, "image/png", state.thumbnail_png())
            else:
                self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")
        except (RuntimeError, ValueError, OSError) as err:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/plain", f"{err}\n".encode())

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Probes every few seconds would flood the log; stay quiet."""


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: AgentState) -> None:
        super().__init__(address, AgentHandler)
        self.state = state


def serve(address: tuple[str, int], state: AgentState) -> AgentServer:
    """Bind now (so a port clash fails the start) and serve in a daemon thread."""
    server = AgentServer(address, state)
    threading.Thread(target=server.serve_forever, name="agent", daemon=True).start()
    return server
