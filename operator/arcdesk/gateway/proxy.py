"""The WebSocket proxy between a browser's noVNC and a seat's websockify, and the registry
that closes open connections when their token is revoked or their seat deleted.

Backpressure: each direction sends a frame before reading the next; a frame is written
straight to the browser's socket only while nothing waits in its write buffer, otherwise it
goes through ``send_bytes``, which waits for the socket to drain; and aiohttp stops reading a
socket whose unread frames exceed its queue limit. So a slow browser slows the desktop's
stream instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from aiohttp import WSMsgType, web

from arcdesk.gateway.metrics import GatewayMetrics
from arcdesk.gateway.records import Key

POLICY_VIOLATION = 1008  # WebSocket close code sent when access is revoked
UPSTREAM_TIMEOUT = 5.0
SUBPROTOCOLS = ("binary",)


@dataclass(eq=False)
class Connection:
    """One open desktop connection; ``still_allowed`` re-checks its token against the index."""

    seat: Key
    course: Key
    role: str
    still_allowed: Callable[[], bool]
    sockets: list[web.WebSocketResponse | aiohttp.ClientWebSocketResponse] = field(
        default_factory=list)
    revoked: bool = False

    async def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(Exception):
                await sock.close(code=POLICY_VIOLATION, message=b"access revoked")


class ConnectionRegistry:
    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics
        self._open: set[Connection] = set()
        self._closing: set[asyncio.Task[None]] = set()

    def add(self, connection: Connection) -> None:
        self._open.add(connection)
        self._metrics.active_connections.labels(connection.role).inc()

    def discard(self, connection: Connection) -> None:
        if connection in self._open:
            self._open.remove(connection)
            self._metrics.active_connections.labels(connection.role).dec()

    def recheck(self, touched: set[Key]) -> int:
        """Close connections of the touched seats/courses whose token no longer opens them."""
        revoked = [c for c in self._open
                   if (c.seat in touched or c.course in touched) and not c.still_allowed()]
        for connection in revoked:
            connection.revoked = True
            self._metrics.revoked_connections.inc()
            task = asyncio.get_running_loop().create_task(connection.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return len(revoked)

    def __len__(self) -> int:
        return len(self._open)

    async def close_all(self) -> None:
        await asyncio.gather(*(c.close() for c in list(self._open)), return_exceptions=True)


class _Target(Protocol):
    def send_bytes(self, data: bytes) -> Awaitable[None]: ...

    def send_str(self, data: str) -> Awaitable[None]: ...


_SHORT, _MEDIUM, _LONG = struct.Struct("!BB"), struct.Struct("!BBH"), struct.Struct("!BBQ")
_FIN_BINARY = 0x82


def _binary_frame_header(size: int) -> bytes:
    """RFC 6455 header of one unmasked, final binary frame of ``size`` payload bytes."""
    if size < 126:
        return _SHORT.pack(_FIN_BINARY, size)
    if size < 1 << 16:
        return _MEDIUM.pack(_FIN_BINARY, 126, size)
    return _LONG.pack(_FIN_BINARY, 127, size)


class _BrowserSink:
    """Frames to the browser. While its socket takes everything, a binary frame is written
    in one piece (aiohttp writes a header and a payload over 16 KiB separately: two sends,
    and two wakeups of the reader); once anything is left buffered, ``send_bytes`` (with
    ``writer_limit=0``) waits for the drain. Whole frames keep aiohttp's pings and close
    frame between ours."""

    def __init__(self, browser: web.WebSocketResponse, request: web.Request) -> None:
        self._browser = browser
        self._request = request

    async def send_bytes(self, data: bytes) -> None:
        transport = self._request.transport
        if (transport is None or transport.is_closing() or self._browser.closed
                or transport.get_write_buffer_size()):
            await self._browser.send_bytes(data)
        else:
            transport.write(_binary_frame_header(len(data)) + data)

    async def send_str(self, data: str) -> None:
        await self._browser.send_str(data)


async def _pump(source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
                target: _Target, count: Callable[[int], None]) -> None:
    async for message in source:
        if message.type == WSMsgType.BINARY:
            await target.send_bytes(message.data)
            count(len(message.data))
        elif message.type == WSMsgType.TEXT:
            await target.send_str(message.data)
            count(len(message.data))
        else:
            break


async def open_upstream(session: aiohttp.ClientSession, address: tuple[str, int],
                        protocols: tuple[str, ...]) -> aiohttp.ClientWebSocketResponse:
    """Connect to the seat's websockify; HTTP 502 for the browser when it does not answer."""
    host, port = address
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        return await session.ws_connect(
            f"ws://{netloc}/websockify", protocols=protocols, compress=0, autoping=True,
            timeout=aiohttp.ClientWSTimeout(ws_close=UPSTREAM_TIMEOUT),
            max_msg_size=0)
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        raise web.HTTPBadGateway(text="The desktop is not reachable right now.\n") from error


async def relay(request: web.Request, upstream: aiohttp.ClientWebSocketResponse,
                connection: Connection, registry: ConnectionRegistry,
                metrics: GatewayMetrics) -> web.WebSocketResponse:
    """Upgrade the browser's request and relay frames both ways until either side closes."""
    browser = web.WebSocketResponse(protocols=SUBPROTOCOLS, compress=False, heartbeat=30.0,
                                    writer_limit=0)
    connection.sockets += [browser, upstream]
    registry.add(connection)
    try:
        await browser.prepare(request)
        if connection.revoked:  # revoked between the check and the upgrade
            return browser
        to_desktop = metrics.bytes_proxied.labels("to_desktop").inc
        to_browser = metrics.bytes_proxied.labels("to_browser").inc
        pumps = [asyncio.ensure_future(_pump(browser, upstream, to_desktop)),
                 asyncio.ensure_future(_pump(upstream, _BrowserSink(browser, request),
                                             to_browser))]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
    finally:
        registry.discard(connection)
        with contextlib.suppress(Exception):
            await upstream.close()
        with contextlib.suppress(Exception):
            await browser.close(code=POLICY_VIOLATION if connection.revoked else 1000)
    return browser
