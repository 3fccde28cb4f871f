"""The landing page's long poll: answered the moment the watch brings its seat's change."""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from arcdesk.gateway.index import ENDPOINT_SLICE, SEAT
from arcdesk.gateway.state import Gateway, GatewayConfig
from tests.unit.gateway_helpers import (
    assert_forbidden,
    endpoint_slice,
    enter,
    load,
    make_course,
    new_gateway,
    run_with,
)

pytestmark = pytest.mark.unit
SCRIPT = {"X-Arcdesk-Request": "1"}
Client = TestClient[Any, Any]


def starting_gateway(wait: float) -> tuple[Gateway, Any]:
    """A gateway whose first seat is still Pending, its pod not yet behind its Service."""
    course = make_course(phase="Pending")
    gw = new_gateway(GatewayConfig(status_wait=wait))
    load(gw.index, course)
    gw.index.apply(ENDPOINT_SLICE, "DELETED", endpoint_slice(course.seats[0].key, "", 0, 0))
    return gw, course


def ready(gw: Gateway, seat: Any) -> None:
    """What the watch loops do when the operator reports the desktop Running."""
    running = copy.deepcopy(seat.seat)
    running["status"] = {"phase": "Running"}
    touched = gw.index.apply(SEAT, "MODIFIED", running)
    touched |= gw.index.apply(ENDPOINT_SLICE, "ADDED",
                              endpoint_slice(seat.key, "127.0.0.1", 6080, 8080))
    gw.index_changed(touched)


async def poll(client: Client, base: str, known: str) -> tuple[float, dict[str, Any]]:
    """One status poll as the page's script makes it: seconds it was held, and the answer."""
    started = time.monotonic()
    response = await client.get(f"{base}status.json?state={known}", headers=SCRIPT)
    return time.monotonic() - started, await response.json()


def test_a_starting_page_hears_ready_as_soon_as_the_watch_brings_it() -> None:
    gw, course = starting_gateway(wait=20)
    seat = course.seats[0]
    url = course.seat_base(0) + "status.json?state=starting"

    async def scenario(client: Client) -> None:
        await enter(client, seat.token)
        html = await (await client.get(course.seat_base(0))).text()
        assert 'data-state="starting"' in html and "/static/seat.js" in html
        poll = asyncio.ensure_future(client.get(url, headers=SCRIPT))
        await asyncio.sleep(0.3)
        assert not poll.done(), "the poll answered before anything changed"
        changed = time.monotonic()
        ready(gw, seat)
        response = await poll
        assert time.monotonic() - changed < 0.5
        assert response.headers["Cache-Control"] == "no-store"
        assert (await response.json())["state"] == "ready"

    run_with(gw, scenario)


def test_a_poll_with_an_outdated_state_is_answered_at_once() -> None:
    gw, course = starting_gateway(wait=20)

    async def scenario(client: Client) -> None:
        await enter(client, course.seats[0].token)
        waited, body = await poll(client, course.seat_base(0), "ready")
        assert waited < 1
        assert body["state"] == "starting" and "starting" in body["text"]

    run_with(gw, scenario)


def test_an_unchanged_seat_is_answered_after_the_wait_with_its_state() -> None:
    gw, course = starting_gateway(wait=0.4)

    async def scenario(client: Client) -> None:
        await enter(client, course.seats[0].token)
        waited, body = await poll(client, course.seat_base(0), "starting")
        assert 0.35 < waited < 2
        assert body["state"] == "starting"
        assert gw.waiters.waiting == 0

    run_with(gw, scenario)


def test_status_needs_the_seat_cookie_and_our_script_and_shows_no_other_seat() -> None:
    gw, course = starting_gateway(wait=20)
    own, other = course.seat_base(0), course.seat_base(1)

    async def scenario(client: Client) -> None:
        await assert_forbidden(await client.get(own + "status.json", headers=SCRIPT))
        await enter(client, course.seats[0].token)
        await assert_forbidden(await client.get(own + "status.json"))
        await assert_forbidden(await client.get(other + "status.json", headers=SCRIPT))
        assert (await client.get(own + "status.json", headers=SCRIPT)).status == 200

    run_with(gw, scenario)
