"""A delaying, rate-limited queue of object keys for reconcile workers (as client-go has).

- A key waits at most once: adding a queued key again keeps the earlier due time, so a
  burst of watch events for one object becomes one reconcile.
- A key is never handed to two workers at once; added while being worked on, it comes
  back after ``done``.
- A key whose reconcile failed is gated by exponential backoff: events for it cannot
  bring it back sooner, so a failing object never turns into a hot loop.
No I/O; only asyncio primitives.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Backoff(Generic[K]):
    """Per-key exponential backoff: base, 2*base, 4*base, ... capped."""

    def __init__(self, base: float = 1.0, cap: float = 300.0) -> None:
        self.base, self.cap = base, cap
        self._failures: dict[K, int] = {}

    def failure(self, key: K) -> float:
        """Record a failure of ``key``; return how long to wait before the next try."""
        count = self._failures.get(key, 0)
        self._failures[key] = count + 1
        return float(min(self.cap, self.base * 2 ** min(count, 32)))

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        return self._failures.get(key, 0)


class WorkQueue(Generic[K]):
    def __init__(self, backoff: Backoff[K] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.backoff: Backoff[K] = backoff or Backoff()
        self._clock = clock
        self._due: dict[K, float] = {}  # queued keys and when they are due
        self._heap: list[tuple[float, int, K]] = []  # may hold stale entries; _due decides
        self._active: set[K] = set()
        self._gate: dict[K, float] = {}  # failing keys: not before this time
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._last_move = clock()  # a key handed out or finished

    def __len__(self) -> int:
        return len(self._due)

    def stalled_for(self) -> float:
        """Seconds during which a due key has waited while no worker took or finished any
        key (0: nothing due waits, or the workers keep moving). Slow work — an API outage
        that makes every reconcile time out — is moving; workers all hung are not. Keys
        being worked on, and keys gated by backoff until later, are not waiting."""
        now = self._clock()
        waiting_since = min((due for key, due in self._due.items()
                             if due <= now and key not in self._active), default=None)
        if waiting_since is None:
            return 0.0
        return now - max(waiting_since, self._last_move)

    def add(self, key: K, delay: float = 0.0) -> None:
        """Queue ``key`` to be handed out after ``delay`` seconds (or its backoff, if later)."""
        due = max(self._clock() + delay, self._gate.get(key, 0.0))
        queued = self._due.get(key)
        if queued is not None and queued <= due:
            return
        self._due[key] = due
        if key not in self._active:
            self._push(key, due)

    def _push(self, key: K, due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), key))
        self._wakeup.set()

    async def get(self) -> K:
        """The next due key; waits until one is due."""
        while True:
            now = self._clock()
            while self._heap:
                due, _, key = self._heap[0]
                if self._due.get(key) != due or key in self._active:
                    heapq.heappop(self._heap)  # stale, or comes back via done()
                    continue
                if due > now:
                    break
                heapq.heappop(self._heap)
                del self._due[key]
                self._active.add(key)
                self._last_move = now
                return key
            timeout = self._heap[0][0] - now if self._heap else None
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    def done(self, key: K, requeue_after: float | None = None, failed: bool = False) -> None:
        """Finish ``key``: back off after a failure, else re-queue it if asked to."""
        self._active.discard(key)
        self._last_move = self._clock()
        if failed:
            gate = self._clock() + self.backoff.failure(key)
            self._gate[key] = gate
            self._due[key] = max(self._due.get(key, gate), gate)
        else:
            self.backoff.forget(key)
            self._gate.pop(key, None)
        if key in self._due:  # failed, or added again while it was being worked on
            self._push(key, self._due[key])
        if requeue_after is not None and not failed:
            self.add(key, requeue_after)

    def forget(self, key: K) -> None:
        """Drop everything known about ``key`` (its object is gone)."""
        self._due.pop(key, None)
        self._gate.pop(key, None)
        self.backoff.forget(key)
