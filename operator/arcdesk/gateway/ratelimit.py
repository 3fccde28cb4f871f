"""Slowing down failed attempts per client, and which address counts as the client. Pure."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Window:
    """One address's failures since ``opened`` (monotonic seconds)."""

    __slots__ = ("count", "opened")

    def __init__(self, opened: float) -> None:
        self.opened, self.count = opened, 0


class FailureLimiter:
    """Slows bad attempts down; never refuses a valid token.

    Why no lockout: a classroom usually reaches the gateway from one NAT address, so
    locking an address out after its failures would lock the whole class out whenever one
    trainee mistypes a link, or scripts bad tokens on purpose. Why slowing is enough:
    links carry 256-bit tokens (``credentials.new_token``); guessing one of 10^4 live
    tokens at 10^6 tries per second takes about 10^63 years, so the limit does not guard
    the tokens, it keeps a guessing script from costing CPU, log lines and sockets.

    So a request is checked for a valid token first, and that answer is never delayed.
    Per address, the first ``free`` failures within ``window`` seconds are refused at
    once; each further one waits ``base * 2**n`` seconds (capped at ``cap``) before its
    403. An address's window opens at its first failure and its count starts again once the
    window has passed. Across all addresses at most ``max_waiting`` refusals wait at once:
    beyond that a bad attempt gets 429 at once, so waiting refusals cannot pile up sockets.
    Memory is bounded: about 200 bytes per address, an address is forgotten once its window
    has passed, and beyond ``max_clients`` (10^4: far more than the addresses of a class)
    the least recently failing one is dropped.
    """

    def __init__(self, free: int = 10, window: float = 60.0, base: float = 0.25,
                 cap: float = 10.0, max_waiting: int = 64, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.window, self.base, self.cap = free, window, base, cap
        self.max_waiting = max_waiting
        self.max_clients = max_clients
        self.waiting = 0  # refusals waiting right now, all addresses
        self._clock = clock
        self._failures: OrderedDict[str, _Window] = OrderedDict()  # by last failure

    def _passed(self, window: _Window) -> bool:
        return window.opened <= self._clock() - self.window

    def _current(self, client: str) -> _Window | None:
        window = self._failures.get(client)
        if window is not None and self._passed(window):
            del self._failures[client]
            return None
        return window

    def recent(self, client: str) -> int:
        """Failures of ``client`` in its current window."""
        window = self._current(client)
        return window.count if window is not None else 0

    def fail(self, client: str) -> float:
        """Count a failure of ``client``; seconds its refusal should wait (0: none)."""
        self._forget_expired()
        window = self._current(client) or _Window(self._clock())
        window.count += 1
        self._failures[client] = window
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
        beyond = window.count - self.free
        return 0.0 if beyond <= 0 else min(self.cap, self.base * 2 ** (beyond - 1))

    def _forget_expired(self) -> None:
        """Drop the least recently failing addresses while their window has passed."""
        while self._failures and self._passed(next(iter(self._failures.values()))):
            self._failures.popitem(last=False)

    def may_wait(self) -> bool:
        """Whether one more refusal may wait (then call ``done_waiting`` after)."""
        if self.waiting >= self.max_waiting:
            return False
        self.waiting += 1
        return True

    def done_waiting(self) -> None:
        self.waiting -= 1


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: Sequence[Network]) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the right-most
    X-Forwarded-For entry that is not itself a trusted proxy (entries left of it are forgeable).
    """
    address = peer or "unknown"
    if not forwarded_for or not _trusted(address, trusted):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        address = hop
        if not _trusted(hop, trusted):
            break
    return address
