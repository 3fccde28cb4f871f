"""What every request handler shares: the index, settings, metrics and open connections."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from arcdesk.gateway import novnc
from arcdesk.gateway.index import SeatIndex
from arcdesk.gateway.metrics import GatewayMetrics
from arcdesk.gateway.proxy import ConnectionRegistry
from arcdesk.gateway.ratelimit import FailureLimiter, Network
from arcdesk.gateway.records import Key
from arcdesk.gateway.thumbnails import ThumbnailCache, agent_fetcher
from arcdesk.gateway.waiters import SeatWaiters

NOVNC_DIR = novnc.default_dir()


class Starter(Protocol):
    async def request_start(self, seat: Key) -> dict[str, Any] | None:
        """Ask the operator to start ``seat``; the updated Seat object, if known."""


@dataclass(frozen=True)
class GatewayConfig:
    novnc_dir: Path = NOVNC_DIR
    trusted_proxies: tuple[Network, ...] = ()
    failure_limit: int = 10
    failure_window: float = 60.0
    thumbnail_max_age: float = 3.0
    # How long a landing page's status poll is held open waiting for its seat to change:
    # under the 60 s read timeout of common ingress controllers.
    status_wait: float = 25.0
    # Cookies without Secure on plain HTTP (browsers drop Secure cookies from http:// pages):
    # for a gateway reached over a network its admin trusts, never across the internet.
    plain_http: bool = False
    # EndpointSlice address -> address to dial. Only for a development cluster without a pod
    # network, whose API server refuses loopback endpoints: real clusters leave it empty.
    address_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Gateway:
    index: SeatIndex
    starter: Starter
    config: GatewayConfig = field(default_factory=GatewayConfig)
    synced: Callable[[], bool] = lambda: True  # readiness: every kind listed once
    live: Callable[[], bool] = lambda: True  # liveness: no watch loop stuck
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    _http: aiohttp.ClientSession | None = None

    def __post_init__(self) -> None:
        self.limiter = FailureLimiter(self.config.failure_limit, self.config.failure_window)
        self.connections = ConnectionRegistry(self.metrics)
        self.thumbnails = ThumbnailCache(agent_fetcher(lambda: self.http),
                                         max_age=self.config.thumbnail_max_age)
        self.waiters = SeatWaiters()

    @property
    def http(self) -> aiohttp.ClientSession:
        """Client session towards desktops (websockify, session agent); open while serving."""
        if self._http is None:
            raise RuntimeError("the gateway app is not running")
        return self._http

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, ssl=False)
        self._http = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))

    async def close(self) -> None:
        await self.connections.close_all()
        if self._http is not None:
            await self._http.close()

    def upstream(self, seat: Key, port_name: str) -> tuple[str, int] | None:
        """Where to dial the seat's ``port_name``: always from the index, never the request."""
        found = self.index.upstream(seat, port_name)
        if found is None:
            return None
        address, port = found
        return self.config.address_map.get(address, address), port

    def index_changed(self, touched: set[Key]) -> None:
        """Called by the watch loops after each change: drop revoked connections' access,
        answer the status polls of the seats touched."""
        self.connections.recheck(touched)
        self.thumbnails.forget(touched)
        self.waiters.wake(touched)


GATEWAY = web.AppKey("gateway", Gateway)
