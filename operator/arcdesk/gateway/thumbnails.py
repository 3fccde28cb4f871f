"""Desktop thumbnails for the instructor page, fetched from each seat's session agent.

One fetch per seat per ``max_age`` seconds however many instructors look: concurrent
requests share the fetch in flight, and the cache holds at most ``max_entries`` images.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

from arcdesk.gateway.records import Key

MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

Fetch = Callable[[tuple[str, int]], Coroutine[Any, Any, bytes | None]]


@dataclass(frozen=True)
class Thumbnail:
    png: bytes
    fetched_at: float


def agent_fetcher(session: Callable[[], aiohttp.ClientSession], timeout: float = 3.0) -> Fetch:
    """GET /thumbnail.png from a session agent; None when it fails or is not a PNG."""

    async def fetch(address: tuple[str, int]) -> bytes | None:
        host, port = address
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            async with session().get(f"http://{netloc}/thumbnail.png",
                                   timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                if response.status != 200:
                    return None
                body = await response.content.read(MAX_THUMBNAIL_BYTES + 1)
        except (TimeoutError, aiohttp.ClientError, OSError):
            return None
        if len(body) > MAX_THUMBNAIL_BYTES or not body.startswith(PNG_MAGIC):
            return None
        return body

    return fetch


class ThumbnailCache:
    def __init__(self, fetch: Fetch, max_age: float = 3.0, max_entries: int = 2000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self.max_age = max_age
        self.max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[Key, Thumbnail] = OrderedDict()
        self._inflight: dict[Key, asyncio.Task[bytes | None]] = {}

    async def get(self, seat: Key, address: tuple[str, int]) -> bytes | None:
        """A PNG of the seat's desktop at most ``max_age`` old (an older one if the agent fails)."""
        cached = self._cache.get(seat)
        if cached and self._clock() - cached.fetched_at < self.max_age:
            return cached.png
        task = self._inflight.get(seat)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch(address))
            self._inflight[seat] = task
            task.add_done_callback(lambda _: self._inflight.pop(seat, None))
        png = await asyncio.shield(task)
        if png is None:
            return cached.png if cached else None
        self._store(seat, png)
        return png

    def _store(self, seat: Key, png: bytes) -> None:
        self._cache[seat] = Thumbnail(png, self._clock())
        self._cache.move_to_end(seat)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)

    def forget(self, seats: set[Key]) -> None:
        for seat in seats:
            self._cache.pop(seat, None)
