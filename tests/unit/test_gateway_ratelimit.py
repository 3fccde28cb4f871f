"""Failed attempts are limited per client; the client is the peer unless a trusted proxy."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from arcdesk.api.credentials import new_token
from arcdesk.gateway.ratelimit import FailureLimiter, client_address, parse_networks
from arcdesk.gateway.state import GatewayConfig
from tests.unit.gateway_helpers import load, make_course, new_gateway, run_with, scrape

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_refusals_wait_longer_after_the_free_failures_until_those_age_out() -> None:
    clock = Clock()
    limiter = FailureLimiter(free=3, window=60, base=0.25, cap=2.0, clock=clock)
    assert [limiter.fail("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [limiter.fail("a") for _ in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]  # capped
    assert limiter.fail("b") == 0.0  # another address is not slowed
    clock.now += 61
    assert limiter.recent("a") == 0 and limiter.fail("a") == 0.0


def test_at_most_max_waiting_refusals_wait_at_once() -> None:
    limiter = FailureLimiter(max_waiting=2, clock=Clock())
    assert limiter.may_wait() and limiter.may_wait() and not limiter.may_wait()
    limiter.done_waiting()
    assert limiter.may_wait()


def test_limiter_memory_is_bounded() -> None:
    limiter = FailureLimiter(free=0, window=60, max_clients=100, clock=Clock())
    for n in range(1000):
        limiter.fail(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._failures) == 100
    assert limiter.recent("10.0.3.231") == 1  # the most recent clients are kept
    assert limiter.recent("10.0.0.0") == 0


def test_addresses_whose_window_passed_are_forgotten_at_the_next_failure() -> None:
    clock = Clock()
    limiter = FailureLimiter(free=0, window=60, clock=clock)
    for n in range(50):
        limiter.fail(f"10.1.0.{n}")
    clock.now += 30
    limiter.fail("10.3.0.1")
    limiter.fail("10.1.0.7")  # failing again in its window does not open a new one
    clock.now += 31
    limiter.fail("10.2.0.1")
    # the 49 at the front are gone; 10.1.0.7 waits behind a live window until it is asked
    assert sorted(limiter._failures) == ["10.1.0.7", "10.2.0.1", "10.3.0.1"]
    assert limiter.recent("10.1.0.7") == 0 and "10.1.0.7" not in limiter._failures


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("203.0.113.9", None, "203.0.113.9"),
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # untrusted peer: header ignored
    ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
    ("10.0.0.5", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # left entries are forgeable
    ("10.0.0.5", "198.51.100.1, 10.0.0.7", "198.51.100.1"),  # skip our own proxy chain
    ("10.0.0.5", "", "10.0.0.5"),
])
def test_client_address_trusts_only_configured_proxies(
        peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(peer, forwarded, parse_networks(["10.0.0.0/24"])) == expected


def test_failures_slow_bad_attempts_but_never_a_valid_link_from_the_same_address() -> None:
    """A class behind one NAT address: one trainee scripting bad tokens must not lock the
    others out, and gets slower answers instead."""
    course = make_course()
    gw = new_gateway(GatewayConfig(failure_limit=5, trusted_proxies=parse_networks(["127.0.0.1"])))
    gw.limiter.base = 0.2
    load(gw.index, course)
    classroom = {"X-Forwarded-For": "198.51.100.7"}

    async def timed(client: TestClient[Any, Any], path: str) -> tuple[int, float]:
        started = time.monotonic()
        response = await client.get(path, headers=classroom, allow_redirects=False)
        return response.status, time.monotonic() - started

    async def scenario(client: TestClient[Any, Any]) -> None:
        for _ in range(5):
            assert (await timed(client, f"/s/{new_token()}"))[0] == 403
        status, waited = await timed(client, f"/s/{new_token()}")
        assert status == 403 and waited >= 0.2  # the sixth bad attempt is held back
        status, waited = await timed(client, f"/s/{course.seats[0].token}")
        assert status == 200 and waited < 0.2  # a valid link: at once, as always
        text = await scrape(gw)
        assert "arcdesk_gateway_slowed_refusals_total 1.0" in text
        assert "arcdesk_gateway_auth_failures_total 6.0" in text

    run_with(gw, scenario)


def test_when_too_many_refusals_wait_a_bad_attempt_gets_429_at_once() -> None:
    course = make_course()
    gw = new_gateway(GatewayConfig(failure_limit=0))
    gw.limiter.max_waiting = 0
    load(gw.index, course)

    async def scenario(client: TestClient[Any, Any]) -> None:
        response = await client.get(f"/s/{new_token()}")
        assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
        assert (await client.get(f"/s/{course.seats[0].token}")).status == 200
        assert "arcdesk_gateway_rate_limited_total 1.0" in await scrape(gw)

    run_with(gw, scenario)
