"""The operator's engine: kopf handlers turn watch events into keys on a work queue, a
bounded pool of workers reconciles them, and a slow resync re-checks everything as a
safety net. Handlers stay thin by calling the ``*_changed`` methods here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from arcdesk import probes
from arcdesk.api import labels, views
from arcdesk.api.settings import Settings
from arcdesk.engine import metrics
from arcdesk.engine.course_sync import reconcile_course
from arcdesk.engine.leadership import Elector, LeaseSettings
from arcdesk.engine.prepull_sync import PREPULL, reconcile_prepulls
from arcdesk.engine.seat_sync import reconcile_seat
from arcdesk.engine.state import Caches, Context, Outcome
from arcdesk.engine.workqueue import Backoff, WorkQueue
from arcdesk.kube import Kube, connect

logger = logging.getLogger(__name__)
Key = tuple[str, str, str]  # (kind, namespace, name); kind is Course or Seat
COURSE_DEBOUNCE = 1.0  # seconds: seat status bursts become one course status update
# Due work waiting this long while no worker took or finished anything means the workers
# are all hung on something no timeout ends (each API request times out after 30 s).
QUEUE_STALL = 120.0


@dataclass(frozen=True)
class Options:
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    workers: int = 8  # concurrent reconciles
    api_concurrency: int = 16  # concurrent requests to the API server
    resync_seconds: float = 300.0  # safety net: every object is re-checked this often
    probe_host: str = "0.0.0.0"  # the kubelet must reach the probe
    probe_port: int = 8080  # /healthz and /metrics; 0 disables
    kubeconfig: str | None = None
    gateway_namespace: str = Settings.gateway_namespace  # desktops accept traffic from there
    backoff_cap: float = 60.0  # seconds: the longest wait between retries of a failing object
    lease: LeaseSettings | None = None  # set: reconcile only while holding this Lease
    prepull_namespace: str = Settings.prepull_namespace  # empty: no image pre-pull


class Runtime:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.metrics = metrics.Metrics()
        self.queue: WorkQueue[Key] = WorkQueue(Backoff(base=1.0, cap=options.backoff_cap))
        self.ctx: Context | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._probe: web.AppRunner | None = None
        self._kube: Kube | None = None
        self._elector: Elector | None = None
        self._election: asyncio.Task[None] | None = None

    async def start(self, indices: Mapping[str, Any]) -> None:
        """Called from kopf's startup handler, which hands over the (still empty) indexes."""
        self._kube = Kube(connect(self.options.kubeconfig),
                          max_concurrency=self.options.api_concurrency,
                          on_request=self.metrics.api_request)
        self.ctx = Context(kube=self._kube, caches=Caches(indices), clock=lambda: datetime.now(UTC),
                           settings=Settings(gateway_namespace=self.options.gateway_namespace,
                                             prepull_namespace=self.options.prepull_namespace))
        if self.options.probe_port:
            self._probe = await probes.serve(self.metrics, self._refresh_gauges, self.healthy,
                                              self.options.probe_host, self.options.probe_port)
        if self.options.lease is None:
            self._lead()
        else:
            self._elector = Elector(self._kube, self.options.lease)
            self._election = asyncio.create_task(self._elector.hold(self._lead, self._follow),
                                                 name="arcdesk-leader-election")

    def _lead(self) -> None:
        """Start reconciling: the workers and the resync."""
        self._tasks = [asyncio.create_task(self._work(), name=f"arcdesk-worker-{i}")
                       for i in range(self.options.workers)]
        self._tasks.append(asyncio.create_task(self._resync(), name="arcdesk-resync"))
        self.metrics.leader.set(1)

    def _follow(self) -> None:
        """Stop reconciling (the lease went to another replica); keep watching."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self.metrics.leader.set(0)

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._election] if self._election else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._elector is not None:
            await self._elector.release()
        if self._probe is not None:
            await self._probe.cleanup()
        if self._kube is not None:
            await self._kube.close()

    def healthy(self) -> bool:
        """Alive: the election runs (if any), while leading every worker runs, and the
        workers have not sat still for :data:`QUEUE_STALL` seconds with work due."""
        tasks = [*self._tasks, *([self._election] if self._election else [])]
        running = bool(tasks) and not any(t.done() for t in tasks)
        return running and self.queue.stalled_for() < QUEUE_STALL

    def _refresh_gauges(self) -> None:
        self.metrics.queue_depth.set(len(self.queue))
        if self.ctx is not None:
            self.metrics.observe_seats(str(s.status.get("phase", "Pending"))
                                       for s in self.ctx.caches.seats())

    # Watch events, from the kopf handlers.
    def course_changed(self, namespace: str, name: str) -> None:
        self.queue.add(("Course", namespace, name))
        self.queue.add(PREPULL, COURSE_DEBOUNCE)  # which images the nodes should hold

    def seat_changed(self, namespace: str, name: str, course: str) -> None:
        self.queue.add(("Seat", namespace, name))
        if course:
            self.queue.add(("Course", namespace, course), COURSE_DEBOUNCE)

    def child_changed(self, body: Mapping[str, Any]) -> None:
        """A Pod, Service, Secret, PVC or NetworkPolicy changed: its seat or course looks."""
        namespace = (body.get("metadata") or {}).get("namespace", "")
        seat = views.controller_of(body, "Seat") or self._seat_by_labels(body)
        if seat:
            self.queue.add(("Seat", namespace, seat))
        course = views.controller_of(body, "Course")
        if course:
            self.queue.add(("Course", namespace, course))

    def _seat_by_labels(self, body: Mapping[str, Any]) -> str | None:
        """An ownerless home (reclaimPolicy Retain) names its seat only by labels."""
        meta = body.get("metadata") or {}
        found = (meta.get("labels") or {})
        if self.ctx is None or labels.SEAT not in found:
            return None
        seat = self.ctx.caches.seat_by_id(meta.get("namespace", ""), found.get(labels.COURSE, ""),
                                          found[labels.SEAT])
        return seat.name if seat else None

    def profile_changed(self, name: str) -> None:
        if self.ctx is not None:
            for course in self.ctx.caches.courses_using(name):
                self.queue.add(("Course", course.namespace, course.name))

    # Workers.
    async def _work(self) -> None:
        while True:
            key = await self.queue.get()
            outcome, started = Outcome(failed=True), time.monotonic()
            try:
                outcome = await self._reconcile(key)
            except asyncio.CancelledError:
                raise
            except Exception:  # one object's failure must not stop the others
                logger.exception("reconciling %s %s/%s failed; retrying with backoff", *key)
            finally:
                self.metrics.duration.labels(key[0]).observe(time.monotonic() - started)
                self.metrics.reconciles.labels(key[0], "error" if outcome.failed else "ok").inc()
                self.queue.done(key, outcome.requeue_after, outcome.failed)
            for follow_up in outcome.follow_up:
                self.queue.add(follow_up)

    async def _reconcile(self, key: Key) -> Outcome:
        assert self.ctx is not None, "workers start after the context"
        kind, namespace, name = key
        if kind == "Course":
            return await reconcile_course(self.ctx, namespace, name)
        if key == PREPULL:
            return await reconcile_prepulls(self.ctx)
        return await reconcile_seat(self.ctx, namespace, name)

    async def _resync(self) -> None:
        """Re-check every course and seat, spread over the interval (a safety net: watch
        events do the real work)."""
        interval = self.options.resync_seconds
        while True:
            await asyncio.sleep(interval)
            assert self.ctx is not None
            keys: list[Key] = [("Course", c.namespace, c.name) for c in self.ctx.caches.courses()]
            keys += [("Seat", s.namespace, s.name) for s in self.ctx.caches.seats()]
            for key in keys:
                self.queue.add(key, random.uniform(0, interval / 2))
