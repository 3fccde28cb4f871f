"""Changes a user makes to a running course, timed until the operator has carried them
out as a user sees it: scale (new Seats Ready, or removed Seats gone) and desktop pods
deleted (a new pod Ready and its Seat Ready again). Shared by the latency and memory
benchmarks."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from arcdesk.api import naming
from bench.course_run import PODS, Cluster, Tracker

CHANGE_TIMEOUT = 300.0


@dataclass
class Course:
    """A benchmark course with live watches of its seats and pods."""

    cluster: Cluster
    namespace: str
    name: str
    seats: Tracker
    pods: Tracker
    size: int = 0

    @classmethod
    async def watch(cls, cluster: Cluster, namespace: str, name: str) -> Course:
        changed = asyncio.Event()
        return cls(cluster, namespace, name, await cluster.seats(namespace, changed),
                   await cluster.pods(namespace, changed))

    async def stop(self) -> None:
        await self.seats.stop()
        await self.pods.stop()

    def seat_names(self, first: int, last: int) -> list[str]:
        """Names of the count-based seats ``first``..``last`` (1-based, inclusive)."""
        return [naming.seat_name(self.name, naming.count_seat_id(i))
                for i in range(first, last + 1)]

    async def create(self, size: int, timeout: float = 900.0) -> float:
        """Create the course; seconds until every Seat is Ready."""
        started = time.monotonic()
        await self.cluster.create_course(self.namespace, self.name, size)
        self.size = size
        ready = await self.seats.until(f"{size} seats ready",
                                       lambda: self.seats.count_ready() == size, timeout)
        return ready - started

    async def scale_up(self, step: int) -> list[float]:
        """Add ``step`` seats; seconds from the change until each new Seat is Ready."""
        names = self.seat_names(self.size + 1, self.size + step)
        started = time.monotonic()
        await self.cluster.scale(self.namespace, self.name, self.size + step)
        self.size += step
        await self.seats.until(f"{step} new seats ready",
                               lambda: all(self.seats.ready.get(n) for n in names),
                               CHANGE_TIMEOUT)
        return [self.seats.ready_since[n] - started for n in names]

    async def scale_down(self, step: int) -> float:
        """Remove ``step`` seats; seconds until their Seats are gone."""
        names = self.seat_names(self.size - step + 1, self.size)
        started = time.monotonic()
        await self.cluster.scale(self.namespace, self.name, self.size - step)
        self.size -= step
        done = await self.seats.until(f"{step} seats removed",
                                      lambda: not any(n in self.seats.uid for n in names),
                                      CHANGE_TIMEOUT)
        return done - started

    async def repair(self, count: int, rng: random.Random) -> list[float]:
        """Delete ``count`` running desktop pods; seconds from the deletion until each seat
        has a new pod Ready and the Seat is Ready again."""
        running = sorted(n for n, ready in self.pods.ready.items() if ready)
        victims = {n: self.pods.uid[n] for n in rng.sample(running, count)}
        repaired: dict[str, float] = {}
        started = time.monotonic()

        def all_repaired() -> bool:
            now = time.monotonic()
            for name, old in victims.items():
                if name not in repaired and self.pods.uid.get(name, old) != old \
                        and self.pods.ready.get(name) and self.seats.ready.get(name) \
                        and self.seats.ready_since.get(name, 0.0) >= started:
                    repaired[name] = now
            return len(repaired) == count

        await asyncio.gather(*(self.cluster.api.request(
            "DELETE", f"{PODS.format(ns=self.namespace)}/{name}") for name in victims))
        await self.seats.until(f"{count} deleted pods repaired", all_repaired, CHANGE_TIMEOUT)
        return [repaired[n] - started for n in sorted(victims)]
