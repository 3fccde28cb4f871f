"""The gateway in front of a real desktop session, with the seat registered in the devcluster.

``gateway`` runs ``arcdesk gateway run --all-namespaces`` as a subprocess against the
devcluster's real API server. ``seat`` writes, in a fresh namespace, what the operator would
(Course, instructor Secret, Seat with status, Secret, Service) plus the EndpointSlice the
EndpointSlice controller would write for a pod, pointing at the desktop session's ports.

The devcluster has no pod network and its API server refuses loopback endpoint addresses,
so the slice carries TEST-NET-1 address 192.0.2.10 (documentation range, never routed) and
the gateway maps that one address to 127.0.0.1 (``--address-map``), where the session
listens. Everything else — watches, index, port names, proxy — runs as in a real cluster.

Every request a test makes on purpose as "some other client" carries its own
X-Forwarded-For (the gateway trusts 127.0.0.1 as a proxy), so deliberate failures never
rate-limit the browser or other tests.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from arcdesk.api import labels, naming
from arcdesk.api.credentials import SeatCredentials, new_token
from arcdesk.api.model import parse_course
from arcdesk.build import desired
from devcluster import desktops, kit
from tests.cluster.conftest import api, crds, kubeconfig, kubectl, namespace

__all__ = ["api", "crds", "gateway", "kubeconfig", "kubectl", "namespace", "seats"]

SLICE_ADDRESS = "192.0.2.10"
ARCDESK = Path(sys.executable).parent / "arcdesk"
_clients = itertools.count(1)


def other_client() -> dict[str, str]:
    """Headers that make the request come from a client of its own (198.18.0.0/15)."""
    n = next(_clients)
    return {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"}


@dataclass
class Gateway:
    """``arcdesk gateway run`` as a process: started, stopped and restarted by tests."""

    argv: list[str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None,
            ) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(self.url + path, headers=headers or other_client())
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        kit.wait_for("the gateway to sync with the API server", lambda: _healthy(self),
                     timeout=30, interval=0.2)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="module")
def gateway_options() -> tuple[str, ...]:
    """Options a test module adds to ``arcdesk gateway run`` (override it there)."""
    return ()


@pytest.fixture(scope="module")
def gateway(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory,
            gateway_options: tuple[str, ...]) -> Iterator[Gateway]:
    """``arcdesk gateway run`` as ``make demo`` runs it, plus ``gateway_options``, on a free
    loopback port, synced with the API server."""
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    port = kit.free_port()
    argv = [str(ARCDESK), "gateway", "run", "--all-namespaces", "--kubeconfig", str(kubeconfig),
            "--port", str(port), "--metrics-host", "127.0.0.1",
            "--metrics-port", str(kit.free_port()), "--trusted-proxy", "127.0.0.1/32",
            "--address-map", f"{SLICE_ADDRESS}=127.0.0.1", *gateway_options]
    found = Gateway(argv, port, log)
    try:
        found.start()
        yield found
    finally:
        found.stop()


def _healthy(found: Gateway) -> bool:
    assert found.process is not None, "the gateway was never started"
    if found.process.poll() is not None:
        raise AssertionError(f"gateway exited {found.process.returncode}:\n{found.log_text()}")
    with contextlib.suppress(OSError):
        return found.get("/healthz")[0] == 200
    return False


@dataclass
class Seat:
    """One trainee seat of a course, registered in the cluster and reachable via the gateway."""

    namespace: str
    course: str
    name: str
    seat_id: str
    token: str
    instructor_token: str

    @property
    def base(self) -> str:
        return f"/seat/{self.namespace}/{self.name}/"

    @property
    def course_base(self) -> str:
        return f"/course/{self.namespace}/{self.course}/"

    def set_status(self, kubectl: kit.Kubectl, status: dict[str, Any]) -> None:
        """Write the Seat's status as the operator would."""
        set_status(kubectl, self.namespace, self.name, status)


def course_manifest(name: str, namespace: str, control: bool) -> dict[str, Any]:
    return {"apiVersion": labels.API_VERSION, "kind": "Course",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"title": desktops.COURSE_TITLE, "profile": "bioimage",
                     "seats": {"count": 2}, "instructor": {"control": control}}}


def endpoint_slice(service: dict[str, Any], session: desktops.DesktopSession) -> dict[str, Any]:
    """What the EndpointSlice controller writes for the seat Service's ready pod (the
    Service's labels copied, plus the service name), with the session's ports."""
    meta = service["metadata"]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{meta['name']}-desk", "namespace": meta["namespace"],
                         "labels": {**meta["labels"], "kubernetes.io/service-name": meta["name"],
                                    # keeps the real controller's hands off this slice
                                    "endpointslice.kubernetes.io/managed-by": "arcdesk-tests"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [SLICE_ADDRESS], "conditions": {"ready": True}}],
            "ports": [{"name": "novnc", "port": session.novnc_port, "protocol": "TCP"},
                      {"name": "agent", "port": session.agent_port, "protocol": "TCP"}]}


def set_status(kubectl: kit.Kubectl, namespace: str, name: str,
               status: dict[str, Any]) -> None:
    kubectl.run("-n", namespace, "patch", "seat", name, "--subresource=status", "--type=merge",
                "-p", json.dumps({"status": status}))


def _owner(kubectl: kit.Kubectl, kind: str, namespace: str,
           name: str) -> desired.Owner:
    uid = kubectl.get_json("-n", namespace, kind.lower(), name)["metadata"]["uid"]
    return desired.Owner(labels.API_VERSION, kind, name, uid)


def register_seats(kubectl: kit.Kubectl, namespace: str,
                   session: desktops.DesktopSession, control: bool = False,
                   course_name: str = "bio") -> list[Seat]:
    """Both seats of a course, as the operator and the EndpointSlice controller leave them."""
    doc = course_manifest(course_name, namespace, control)
    kubectl.apply(doc)
    course = parse_course(json.loads(json.dumps(doc)))
    course_owner = _owner(kubectl, "Course", namespace, course_name)
    instructor_token = new_token()
    kubectl.apply(desired.instructor_secret(course, instructor_token, course_owner))
    seats = []
    for trainee in course.trainees:
        name = naming.seat_name(course_name, trainee.id)
        kubectl.apply(desired.seat(course, trainee, "Running", course_owner))
        set_status(kubectl, namespace, name, {"phase": "Running"})
        seat_owner = _owner(kubectl, "Seat", namespace, name)
        token = new_token()
        credentials = SeatCredentials(desktops.FULL_PASSWORD, desktops.VIEW_PASSWORD, token)
        kubectl.apply(desired.secret(course, trainee, credentials, seat_owner))
        service = desired.service(course, trainee, seat_owner)
        kubectl.apply(service)
        kubectl.apply(endpoint_slice(service, session))
        seats.append(Seat(namespace, course_name, name, trainee.id, token, instructor_token))
    return seats


def wait_open(gw: Gateway, path: str) -> None:
    """Until the gateway's index has caught up with the cluster and ``path`` opens."""
    kit.wait_for(f"the gateway to open {re.sub(r'/[si]/.*', '/<token>', path)}",
                          lambda: gw.get(path)[0] == 200, timeout=30, interval=0.1)


@pytest.fixture
def seats(gateway: Gateway, kubectl: kit.Kubectl, namespace: str,
         desktop_session: desktops.DesktopSession) -> list[Seat]:
    """Two seats of course ``bio`` in a fresh namespace, both served by the test desktop."""
    seats = register_seats(kubectl, namespace, desktop_session)
    for found in seats:
        wait_open(gateway, f"/s/{found.token}")
    wait_open(gateway, f"/i/{seats[0].instructor_token}")
    return seats
