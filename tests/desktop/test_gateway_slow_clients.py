"""Clients that hold connections without finishing a request, and a flood of bad requests,
against the real gateway process: they are cut off, valid trainees keep getting in at once,
and the gateway's memory stays bounded.

The gateway here runs with ``--idle-timeout 15`` (the default is 75 s, above an ingress's
upstream keep-alive) so that a trickle of 30 s outlasts it without a minute-long test."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest

from arcdesk.api.credentials import new_token
from tests.desktop.clients import run

if TYPE_CHECKING:
    from tests.desktop.gateway_fixtures import Gateway, Seat

pytest_plugins = ["tests.desktop.gateway_fixtures"]

IDLE_TIMEOUT = 15.0
TRICKLE_FOR = 30.0
HALF_OPEN = 200
TRICKLERS = 5
BAD_REQUESTS = 10_000
WARM_UP = 14_000  # 10 500 failing addresses: past the limiter's 10 000
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def gateway_options() -> tuple[str, ...]:
    return ("--idle-timeout", str(IDLE_TIMEOUT))


def connect(gw: Gateway) -> socket.socket:
    return socket.create_connection(("127.0.0.1", gw.port), timeout=5)


def closed_by_server(sock: socket.socket, wait: float) -> bool:
    """Whether the server has closed ``sock`` (EOF or reset) within ``wait`` seconds."""
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def trickle(gw: Gateway, cut_after: list[float]) -> None:
    """Send a request's headers one byte a second for TRICKLE_FOR seconds; record when the
    gateway cut the connection (seconds after opening), or TRICKLE_FOR if it never did."""
    started = time.monotonic()
    sock = connect(gw)
    header = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: " + b"a" * 64
    try:
        for byte in header:
            if time.monotonic() - started > TRICKLE_FOR:
                break
            sock.sendall(bytes([byte]))
            if closed_by_server(sock, 1.0):
                cut_after.append(time.monotonic() - started)
                return
        cut_after.append(TRICKLE_FOR)
    except (BrokenPipeError, ConnectionResetError):
        cut_after.append(time.monotonic() - started)
    finally:
        sock.close()


def trainee_round_trip(gw: Gateway, seat: Seat) -> float:
    started = time.monotonic()
    status, _, headers = gw.get(f"/s/{seat.token}")
    assert status == 200 and "arcdesk_seat=" in headers.get("Set-Cookie", ""), status
    return time.monotonic() - started


def test_half_open_and_trickling_connections_are_cut_while_trainees_get_in_at_once(
        gateway: Gateway, seats: list[Seat]) -> None:
    idle = [connect(gateway) for _ in range(HALF_OPEN)]
    opened = time.monotonic()
    cut_after: list[float] = []
    tricklers = [threading.Thread(target=trickle, args=(gateway, cut_after))
                 for _ in range(TRICKLERS)]
    for thread in tricklers:
        thread.start()
    trainee_times = []
    while any(thread.is_alive() for thread in tricklers):
        trainee_times.append(trainee_round_trip(gateway, seats[len(trainee_times) % 2]))
        time.sleep(0.5)
    still_open = [sock for sock in idle
                  if not closed_by_server(sock, max(0.1, opened + IDLE_TIMEOUT + 5
                                                   - time.monotonic()))]
    for sock in idle:
        sock.close()
    print(f"tricklers cut after {sorted(round(t, 1) for t in cut_after)} s; "
          f"trainee link p100 {max(trainee_times) * 1000:.0f} ms over {len(trainee_times)}")
    assert len(cut_after) == TRICKLERS
    assert all(IDLE_TIMEOUT - 1 <= t <= IDLE_TIMEOUT + 3 for t in cut_after), cut_after
    assert not still_open, f"{len(still_open)} of {HALF_OPEN} silent connections still open"
    assert max(trainee_times) < 1.0, trainee_times
    assert "Traceback" not in gateway.log_text()


def bad_request(n: int, gw: Gateway, seat: Seat) -> tuple[str, dict[str, str]]:
    """The n-th of a mix of refused requests, each from its own address."""
    client = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
    kind = n % 4
    if kind == 0:
        return f"{gw.url}/s/{new_token()}", client
    if kind == 1:
        return f"{gw.url}{seat.base}", {**client, "Cookie": f"arcdesk_seat={new_token()}"}
    if kind == 2:
        return f"{gw.url}/{new_token()[:12]}/../etc/passwd?x={n}", client
    return f"{gw.url}{seat.base}websockify", {**client, "Connection": "Upgrade",
                                              "Upgrade": "websocket"}


def flood(gw: Gateway, seat: Seat, first: int, count: int) -> dict[int, int]:
    """``count`` bad requests, 16 at a time; how many got each status."""
    statuses: dict[int, int] = {}

    async def scenario(session: aiohttp.ClientSession) -> None:
        queue = iter(range(first, first + count))

        async def worker() -> None:
            for n in queue:
                url, headers = bad_request(n, gw, seat)
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(16)))

    run(scenario)
    return statuses


def rss(gw: Gateway) -> int:
    assert gw.process is not None
    for line in Path(f"/proc/{gw.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/<gateway>/status")


def test_memory_stays_bounded_after_10000_bad_requests(gateway: Gateway,
                                                       seats: list[Seat]) -> None:
    # Warm: caches, allocator arenas, and the failure limiter's table filled to its bound
    # (FailureLimiter.max_clients addresses; each refused request here has an address of
    # its own, the worst case for that table).
    flood(gateway, seats[0], 0, WARM_UP)
    before = rss(gateway)
    first = flood(gateway, seats[0], WARM_UP, BAD_REQUESTS)
    after_first = rss(gateway)
    second = flood(gateway, seats[0], WARM_UP + BAD_REQUESTS, BAD_REQUESTS)
    after_second = rss(gateway)
    print(f"gateway RSS {before / MIB:.1f} MiB, +{(after_first - before) / MIB:.1f} after "
          f"{BAD_REQUESTS}, +{(after_second - after_first) / MIB:.1f} after {BAD_REQUESTS} "
          f"more; statuses {first} / {second}")
    assert set(first) | set(second) <= {400, 403, 404, 429}, (first, second)
    assert after_first - before < 2 * MIB, "memory grows with bad requests"
    assert after_second - after_first < 2 * MIB, "memory grows with bad requests"
    assert trainee_round_trip(gateway, seats[1]) < 1.0
    assert "Traceback" not in gateway.log_text()
