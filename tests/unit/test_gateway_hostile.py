"""Hostile input at the gateway, generated (Hypothesis): any method, path, query string,
header and cookie against the real app with a course loaded. Never a 5xx, never an error or
traceback in the log, never a token or password in a response or a log line.

Derandomized (a fixed seed): every run sends the same 1500 requests, so a failure
reproduces; checked to catch an injected exception on a token containing "q" (it found
``/s/q``), which 400 examples did not."""

from __future__ import annotations

import asyncio
import logging
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcdesk.gateway.app import create_app
from arcdesk.gateway.logs import AccessLogger, install_redaction
from arcdesk.gateway.state import GatewayConfig
from tests.unit.gateway_helpers import CourseFixture, load, make_course, new_gateway

pytestmark = pytest.mark.unit

COURSE = make_course(control=True)
SECRETS = [COURSE.instructor_token, *(s.token for s in COURSE.seats),
           *(s.vnc_password for s in COURSE.seats), *(s.view_password for s in COURSE.seats)]
ROUTES = ["", "s", "i", "healthz", "metrics", "novnc", "static", "seat", "course",
          COURSE.seat_base(0).strip("/"), COURSE.seat_base(1).strip("/") + "/websockify",
          COURSE.seat_base(0).strip("/") + "/credentials", COURSE.course_base().strip("/"),
          f"{COURSE.course_base().strip('/')}/seats/{COURSE.seats[0].key.name}/thumbnail.png"]
VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7e)
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
# Strings shaped like tokens (and just too short or too long for one): they get past the
# shape check, into the index lookups and the limiter.
TOKENISH = st.text(st.sampled_from(string.ascii_letters + string.digits + "-_"), max_size=140)
HEADER_NAMES = st.sampled_from(["Origin", "Host", "X-Forwarded-For", "X-Arcdesk-Request",
                                "Referer", "Content-Type", "Upgrade", "Connection",
                                "Sec-WebSocket-Version", "Sec-WebSocket-Key", "Range"])


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    segments = draw(st.lists(st.one_of(TOKENISH, ANY_TEXT), max_size=4))
    raw = "/".join(quote(s, safe=draw(st.sampled_from(["", "/", "%", ":@"]))) for s in segments)
    # A leading "//" would make the client read a host out of the path: one slash only.
    path = "/" + "/".join(p for p in (draw(st.sampled_from(ROUTES)), raw) if p).lstrip("/")
    query = draw(st.dictionaries(st.text(VISIBLE, max_size=8), ANY_TEXT, max_size=3))
    headers = draw(st.dictionaries(HEADER_NAMES, st.text(VISIBLE, max_size=60), max_size=4))
    cookies = draw(st.dictionaries(st.sampled_from(["arcdesk_seat", "arcdesk_course", "x"]),
                                   st.text(VISIBLE.filter(lambda c: c not in ';,"\\'),
                                           max_size=60) | TOKENISH, max_size=2))
    return {"method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD",
                                            "OPTIONS", "PATCH"])),
            "path": path, "params": query, "headers": headers,
            "cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "body": draw(st.binary(max_size=200))}


class Running:
    """The real gateway app on a loopback port, on an event loop of its own."""

    def __init__(self, course: CourseFixture) -> None:
        # Refusals are counted but never held back here: slowing is ratelimit's own test.
        gw = new_gateway(GatewayConfig(failure_limit=10**9))
        load(gw.index, course)
        self.loop = asyncio.new_event_loop()
        server = TestServer(create_app(gw), host="127.0.0.1", access_log_class=AccessLogger)
        self.client: TestClient[Any, Any] = TestClient(server, loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def send(self, request: dict[str, Any]) -> tuple[int, bytes]:
        async def go() -> tuple[int, bytes]:
            headers = {**request["headers"], **({"Cookie": request["cookie"]}
                                                 if request["cookie"] else {})}
            async with self.client.request(request["method"], request["path"],
                                           params=request["params"], headers=headers,
                                           data=request["body"], allow_redirects=False,
                                           skip_auto_headers=["Cookie"]) as response:
                return response.status, await response.read()
        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def gateway() -> Iterator[Running]:
    install_redaction()
    running = Running(COURSE)
    yield running
    running.close()


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def log() -> Iterator[Collect]:
    handler, root = Collect(), logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(before)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests())
def test_generated_requests_never_break_the_gateway_or_leak_a_secret(
        gateway: Running, log: Collect, request: dict[str, Any]) -> None:
    start = len(log.records)
    status, body = gateway.send(request)
    assert status < 500, (status, request, body[:200])
    text = body.decode(errors="replace")
    assert not [s for s in SECRETS if s in text], request
    for record in log.records[start:]:
        line = record.getMessage() + (logging.Formatter().formatException(record.exc_info)
                                      if record.exc_info else "")
        assert record.levelno < logging.ERROR and "Traceback" not in line, line
        assert not [s for s in SECRETS if s in line], line
