"""Requests waiting for a seat's next change: the landing page's long poll.

A page showing "starting" asks once and is answered the moment the watch brings the seat's
change, instead of reloading every few seconds (a reload period adds its own wait, on
average half of it, between a Ready desktop and a trainee who sees it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from arcdesk.gateway.records import Key


class SeatWaiters:
    """One event per watched seat, set and dropped when that seat changes.

    At most ``limit`` requests wait at once (over all seats): beyond that ``wait`` answers
    at once, so a flood of polls costs no more than that many pending handlers.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.waiting = 0
        self._events: dict[Key, asyncio.Event] = {}

    async def wait(self, seat: Key, timeout: float) -> bool:
        """Wait up to ``timeout`` s for ``seat`` to change; whether it did."""
        if self.waiting >= self.limit or timeout <= 0:
            return False
        event = self._events.setdefault(seat, asyncio.Event())
        self.waiting += 1
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1

    def wake(self, touched: Iterable[Key]) -> None:
        """The seats in ``touched`` changed: answer everyone waiting on them."""
        for key in touched:
            event = self._events.pop(key, None)
            if event is not None:
                event.set()
