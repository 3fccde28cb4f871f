"""A course as the gateway sees it through the API, and the real gateway app in front of it.

Seats and Secrets come from arcdesk's own builders (``desired``), stored the way the API
server returns them (``stringData`` folded into base64 ``data``); EndpointSlices are what
the EndpointSlice controller would write for each seat Service.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from arcdesk.api import labels, naming
from arcdesk.api.credentials import new_seat_credentials, new_token
from arcdesk.api.model import parse_course
from arcdesk.build import desired
from arcdesk.gateway.access import FORBIDDEN
from arcdesk.gateway.app import create_app, create_metrics_app
from arcdesk.gateway.index import COURSE, ENDPOINT_SLICE, SEAT, SECRET, SeatIndex
from arcdesk.gateway.logs import AccessLogger
from arcdesk.gateway.records import Key
from arcdesk.gateway.state import Gateway, GatewayConfig
from arcdesk.gateway.tokens import Digester
from arcdesk.kube import Connection, Kube

NAMESPACE = "training"


def stored(manifest: dict[str, Any]) -> dict[str, Any]:
    """A rendered Secret as the API server stores it: ``stringData`` becomes base64 ``data``."""
    obj = copy.deepcopy(manifest)
    string_data = obj.pop("stringData", {})
    obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in string_data.items()}
    return obj


def course_doc(name: str, seats: int, control: bool = False,
               wake: bool = True) -> dict[str, Any]:
    return {"apiVersion": labels.API_VERSION, "kind": "Course",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"title": f"Course {name}", "profile": "base", "seats": {"count": seats},
                     "instructor": {"control": control},
                     "idle": {"timeout": "2h", "wakeOnConnect": wake}}}


def endpoint_slice(seat: Key, address: str, novnc: int, agent: int) -> dict[str, Any]:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{seat.name}-abcde", "namespace": seat.namespace,
                         "labels": {"kubernetes.io/service-name": seat.name}},
            "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
            "ports": [{"name": "novnc", "port": novnc, "protocol": "TCP"},
                      {"name": "agent", "port": agent, "protocol": "TCP"}]}


@dataclass
class SeatFixture:
    key: Key
    seat: dict[str, Any]
    secret: dict[str, Any]
    token: str
    vnc_password: str
    view_password: str


@dataclass
class CourseFixture:
    key: Key
    course: dict[str, Any]
    instructor_secret: dict[str, Any]
    instructor_token: str
    seats: list[SeatFixture] = field(default_factory=list)

    def seat_base(self, index: int) -> str:
        seat = self.seats[index].key
        return f"/seat/{seat.namespace}/{seat.name}/"

    def course_base(self) -> str:
        return f"/course/{self.key.namespace}/{self.key.name}/"


def make_course(name: str = "bio", seats: int = 2, control: bool = False, wake: bool = True,
                phase: str = "Running") -> CourseFixture:
    doc = course_doc(name, seats, control, wake)
    course = parse_course(copy.deepcopy(doc))
    owner = desired.Owner(labels.API_VERSION, "Course", name, "uid-" + name)
    token = new_token()
    fixture = CourseFixture(Key(NAMESPACE, name), doc,
                            stored(desired.instructor_secret(course, token, owner)), token)
    for trainee in course.trainees:
        credentials = new_seat_credentials()
        seat = desired.seat(course, trainee, "Running", owner)
        seat["status"] = {"phase": phase}
        key = Key(NAMESPACE, naming.seat_name(name, trainee.id))
        fixture.seats.append(SeatFixture(
            key, seat, stored(desired.secret(course, trainee, credentials, None)),
            credentials.token, credentials.vnc_password, credentials.view_password))
    return fixture


def load(index: SeatIndex, course: CourseFixture, address: str = "127.0.0.1",
         novnc: int = 6080, agent: int = 8080) -> None:
    """Feed the course into the index as watch events would."""
    index.apply(COURSE, "ADDED", course.course)
    index.apply(SECRET, "ADDED", course.instructor_secret)
    for seat in course.seats:
        index.apply(SEAT, "ADDED", seat.seat)
        index.apply(SECRET, "ADDED", seat.secret)
        index.apply(ENDPOINT_SLICE, "ADDED", endpoint_slice(seat.key, address, novnc, agent))


class RecordingStarter:
    """Stands in for the API server's PATCH of a Seat; records what was asked."""

    def __init__(self) -> None:
        self.started: list[Key] = []

    async def request_start(self, seat: Key) -> None:
        self.started.append(seat)
        return None  # the unit tier has no API server to return the updated Seat


def new_gateway(config: GatewayConfig | None = None) -> Gateway:
    return Gateway(index=SeatIndex(Digester()), starter=RecordingStarter(),
                   config=config or GatewayConfig())


@asynccontextmanager
async def client_for(gw: Gateway) -> AsyncIterator[TestClient[Any, Any]]:
    """The real gateway app on a loopback port, with aiohttp's test client in front."""
    server = TestServer(create_app(gw), host="127.0.0.1", access_log_class=AccessLogger)
    async with TestClient(server) as client:
        yield client


async def scrape(gw: Gateway) -> str:
    """``gw``'s /metrics as Prometheus reads it: from the metrics app, not the public one."""
    async with TestClient(TestServer(create_metrics_app(gw), host="127.0.0.1")) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        return await response.text()


def run_with(gw: Gateway, scenario: Callable[[TestClient[Any, Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with client_for(gw) as client:
            await scenario(client)

    asyncio.run(main())


def gateway_with(*courses: CourseFixture) -> Gateway:
    gw = new_gateway()
    for course in courses:
        load(gw.index, course)
    return gw


async def enter(client: TestClient[Any, Any], token: str, kind: str = "s") -> Any:
    return await client.get(f"/{kind}/{token}", allow_redirects=False)


async def assert_forbidden(response: Any) -> None:
    assert response.status == 403
    assert await response.text() == FORBIDDEN


def origin(client: TestClient[Any, Any]) -> str:
    return f"http://{client.host}:{client.port}"


@asynccontextmanager
async def seats_api(handler: Callable[[Any], Awaitable[Any]]) -> AsyncIterator[Kube]:
    """A loopback HTTP server answering the Seats list/watch path with ``handler``, and a
    kube client on it (plain HTTP, no credentials)."""
    app = web.Application()
    app.router.add_get("/apis/arcdesk.dev/v1alpha1/seats", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    api = Kube(Connection(f"http://127.0.0.1:{runner.addresses[0][1]}", False,
                          lambda: None, "default"))
    try:
        yield api
    finally:
        await api.close()
        await runner.cleanup()
