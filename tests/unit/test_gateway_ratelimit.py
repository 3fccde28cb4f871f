"""Failed attempts are limited per client; the client is the peer unless a trusted proxy."""

from __future__ import annotations

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


def test_limiter_blocks_after_limit_failures_until_they_age_out() -> None:
    clock = Clock()
    limiter = FailureLimiter(limit=3, window=60, clock=clock)
    for _ in range(2):
        limiter.fail("a")
    assert not limiter.blocked("a")
    limiter.fail("a")
    assert limiter.blocked("a") and not limiter.blocked("b")
    assert 1 <= limiter.retry_after("a") <= 61
    clock.now += 61
    assert not limiter.blocked("a") and limiter.retry_after("a") == 0


def test_limiter_memory_is_bounded() -> None:
    limiter = FailureLimiter(limit=1, window=60, max_clients=100, clock=Clock())
    for n in range(1000):
        limiter.fail(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._failures) == 100
    assert limiter.blocked("10.0.3.231")  # the most recent clients are kept


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


def test_too_many_failures_lock_the_client_out_even_with_a_valid_token() -> None:
    course = make_course()
    gw = new_gateway(GatewayConfig(failure_limit=5, trusted_proxies=parse_networks(["127.0.0.1"])))
    load(gw.index, course)
    attacker = {"X-Forwarded-For": "198.51.100.7"}
    bystander = {"X-Forwarded-For": "198.51.100.8"}

    async def scenario(client: TestClient[Any, Any]) -> None:
        for _ in range(5):
            response = await client.get(f"/s/{new_token()}", headers=attacker)
            assert response.status == 403
        locked = await client.get(f"/s/{course.seats[0].token}", headers=attacker)
        assert locked.status == 429 and int(locked.headers["Retry-After"]) > 0
        assert course.seats[0].token not in await locked.text()
        ok = await client.get(f"/s/{course.seats[0].token}", headers=bystander)
        assert ok.status == 200
        assert "arcdesk_gateway_rate_limited_total 1.0" in await scrape(gw)

    run_with(gw, scenario)
