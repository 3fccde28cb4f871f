"""The WebSocket proxy, against a loopback stand-in for a seat's websockify (an echo)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from arcdesk.gateway import index as idx
from arcdesk.gateway.proxy import POLICY_VIOLATION
from devcluster.kit import free_port
from tests.unit.gateway_helpers import (
    CourseFixture,
    client_for,
    load,
    make_course,
    new_gateway,
    origin,
    scrape,
)

pytestmark = pytest.mark.unit
Client = TestClient[Any, Any]


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("binary",))
    await ws.prepare(request)
    async for message in ws:
        await ws.send_bytes(message.data)
    return ws


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def echo_server(handler: Handler = echo) -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_get("/websockify", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def run(course: CourseFixture, scenario: Any, upstream: bool = True,
        desktop: Handler = echo) -> Any:
    gw = new_gateway()

    async def main() -> None:
        if upstream:
            async with echo_server(desktop) as port:
                load(gw.index, course, novnc=port)
                async with client_for(gw) as client:
                    await scenario(client, gw)
        else:
            load(gw.index, course, novnc=free_port())
            async with client_for(gw) as client:
                await scenario(client, gw)

    asyncio.run(main())
    return gw


async def open_seat_socket(client: Client, course: CourseFixture, index: int = 0,
                           query: str = "") -> aiohttp.ClientWebSocketResponse:
    await client.get(f"/s/{course.seats[index].token}")
    return await client.ws_connect(course.seat_base(index) + "websockify" + query,
                                   headers={"Origin": origin(client)}, protocols=("binary",))


def test_frames_flow_both_ways_and_are_counted() -> None:
    course = make_course()

    async def scenario(client: Client, gw: Any) -> None:
        ws = await open_seat_socket(client, course)
        assert ws.protocol == "binary"
        for size in (1, 1000, 300_000):
            payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
            await ws.send_bytes(payload)
            assert (await ws.receive_bytes(timeout=5)) == payload
        metrics = await scrape(gw)
        assert 'arcdesk_gateway_active_connections{role="trainee"} 1.0' in metrics
        assert 'arcdesk_gateway_proxied_bytes_total{direction="to_desktop"} 301001.0' in metrics
        await ws.close()

    run(course, scenario)


FLOOD = 256 * 2**20


def test_a_browser_that_stops_reading_stalls_the_desktop_instead_of_filling_the_gateway() -> None:
    course = make_course()
    sent = 0

    async def flood(request: web.Request) -> web.WebSocketResponse:
        nonlocal sent
        ws = web.WebSocketResponse(protocols=("binary",))
        await ws.prepare(request)
        block = bytes(2**20)
        with contextlib.suppress(ConnectionError):
            while sent < FLOOD:
                await ws.send_bytes(block)
                sent += len(block)
        return ws

    async def scenario(client: Client, gw: Any) -> None:
        tracemalloc.start()
        try:
            ws = await open_seat_socket(client, course)  # and never reads
            before, last = tracemalloc.get_traced_memory()[0], -1
            for _ in range(40):  # until the desktop's sends stall
                if sent == last:
                    break
                last = sent
                await asyncio.sleep(0.25)
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert sent < FLOOD // 2, "the desktop kept sending: something buffers without bound"
        assert held < 16 * 2**20, f"{held} bytes held in memory for a browser that reads nothing"
        await ws.close()

    run(course, scenario, desktop=flood)


def test_socket_needs_our_origin_and_ignores_any_upstream_in_the_request() -> None:
    course = make_course()

    async def scenario(client: Client, gw: Any) -> None:
        await client.get(f"/s/{course.seats[0].token}")
        url = course.seat_base(0) + "websockify"
        for headers in ({}, {"Origin": "http://evil.example"}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(url, headers=headers)
            assert refused.value.status == 403
        ws = await open_seat_socket(client, course, query="?host=10.0.0.1&port=22&token=x")
        await ws.send_bytes(b"still our desktop")
        assert await ws.receive_bytes(timeout=5) == b"still our desktop"
        await ws.close()

    run(course, scenario)


@pytest.mark.parametrize("change", ["reissue", "delete-seat", "delete-secret"])
def test_open_socket_is_closed_when_access_is_revoked(change: str) -> None:
    course = make_course()
    seat = course.seats[0]

    async def scenario(client: Client, gw: Any) -> None:
        ws = await open_seat_socket(client, course)
        other = await open_seat_socket(client, course, index=1)
        if change == "reissue":
            secret = copy.deepcopy(seat.secret)
            secret["data"]["token"] = course.seats[1].secret["data"]["token"][::-1]
            touched = gw.index.apply(idx.SECRET, "MODIFIED", secret)
        elif change == "delete-seat":
            touched = gw.index.apply(idx.SEAT, idx.DELETED, seat.seat)
        else:
            touched = gw.index.apply(idx.SECRET, idx.DELETED, seat.secret)
        gw.index_changed(touched)
        closed = await ws.receive(timeout=5)
        assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == POLICY_VIOLATION
        await other.send_bytes(b"unaffected")  # the other seat keeps its connection
        assert await other.receive_bytes(timeout=5) == b"unaffected"
        await other.close()
        assert "arcdesk_gateway_revoked_connections_total 1.0" in await scrape(gw)

    run(course, scenario)


def test_instructor_control_socket_closes_when_the_course_withdraws_control() -> None:
    course = make_course(control=True)
    base = f"{course.course_base()}seats/{course.seats[0].key.name}/"

    async def scenario(client: Client, gw: Any) -> None:
        await client.get(f"/i/{course.instructor_token}")
        headers = {"Origin": origin(client)}
        control = await client.ws_connect(base + "control/websockify", headers=headers)
        view = await client.ws_connect(base + "view/websockify", headers=headers)
        withdrawn = copy.deepcopy(course.course)
        withdrawn["spec"]["instructor"]["control"] = False
        gw.index_changed(gw.index.apply(idx.COURSE, "MODIFIED", withdrawn))
        assert (await control.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE
        await view.send_bytes(b"watching")
        assert await view.receive_bytes(timeout=5) == b"watching"
        await view.close()

    run(course, scenario)


def test_unreachable_or_missing_desktop_fails_before_the_upgrade() -> None:
    course = make_course()

    async def scenario(client: Client, gw: Any) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await open_seat_socket(client, course)
        assert refused.value.status == 502
        gw.index.apply(idx.ENDPOINT_SLICE, idx.DELETED,
                       {"metadata": {"name": f"{course.seats[1].key.name}-abcde",
                                     "namespace": course.key.namespace}})
        with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
            await open_seat_socket(client, course, index=1)
        assert missing.value.status == 503

    run(course, scenario, upstream=False)
