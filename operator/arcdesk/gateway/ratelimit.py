"""Failed-attempt limiting per client, and which address counts as the client. Pure."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class FailureLimiter:
    """At most ``limit`` failed attempts per client within ``window`` seconds.

    A blocked client is refused even with a valid token until its old failures age out.
    Memory is bounded: beyond ``max_clients`` the least recently failing client is dropped.
    """

    def __init__(self, limit: int = 10, window: float = 60.0, max_clients: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        cutoff = self._clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def blocked(self, client: str) -> bool:
        failures = self._recent(client)
        return failures is not None and len(failures) >= self.limit

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (0 when it is not blocked)."""
        failures = self._recent(client)
        if failures is None or len(failures) < self.limit:
            return 0
        return max(1, int(failures[-self.limit] + self.window - self._clock()) + 1)

    def fail(self, client: str) -> None:
        failures = self._recent(client) or deque(maxlen=self.limit)
        failures.append(self._clock())
        self._failures[client] = failures
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)


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
