"""Keep the seat index in step with the API server: list, then watch, per kind.

Each kind has its own loop. A watch the server ends normally resumes from the last
resourceVersion (bookmarks keep it fresh); an expired one (HTTP 410) or any error leads to a
full relist that *replaces* the kind in the index, so deletions missed meanwhile are seen.
A stream silent past ``inactivity`` (no event, no bookmark) is treated as broken too.

Liveness: every step of a loop (a list, an event, a failure) is progress, so an API server
outage keeps the loops alive (failing and retrying, serving the index they have); only a
loop that makes no step at all for :func:`stall_after` seconds — hung, which no timeout
should allow — counts as stuck, and the gateway's liveness probe then fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from arcdesk.api import labels
from arcdesk.api.model import format_time
from arcdesk.gateway import index as idx
from arcdesk.gateway.metrics import GatewayMetrics
from arcdesk.gateway.records import Key
from arcdesk.kube import ApiError, Kube
from arcdesk.kube.client import WATCH_INACTIVITY

log = logging.getLogger("arcdesk.gateway")

_MANAGED = f"{labels.MANAGED_BY}={labels.MANAGER}"


@dataclass(frozen=True)
class Resource:
    """A watched collection: a kind of ``arcdesk.kube.kinds`` and a label selector."""

    kind: str
    selector: str = ""


RESOURCES = (
    Resource(idx.COURSE),
    Resource(idx.SEAT),
    Resource(idx.SECRET, f"{_MANAGED},{labels.COMPONENT} in "
             f"({labels.CREDENTIALS_COMPONENT},{labels.INSTRUCTOR_COMPONENT})"),
    # The EndpointSlice controller copies the seat Service's labels onto its slices.
    Resource(idx.ENDPOINT_SLICE,
             f"{_MANAGED},{labels.COMPONENT}={labels.DESKTOP_COMPONENT},kubernetes.io/service-name"),
)
GONE = 410  # the resourceVersion is too old: list again
BACKOFF_MAX = 30.0
LIST_TIMEOUT = 30.0  # the API client's request timeout
Touched = Callable[[set[Key]], None]


def stall_after(inactivity: float) -> float:
    """The longest a working loop can go without a step: a silent stream (``inactivity``),
    the longest backoff and a list that times out, with as much again to spare."""
    return 2 * max(inactivity, BACKOFF_MAX + LIST_TIMEOUT)


class Reflector:
    """Mirror one resource into the index; ``synced`` is set after the first full list."""

    def __init__(self, api: Kube, resource: Resource, namespace: str | None,
                 index: idx.SeatIndex, on_change: Touched, metrics: GatewayMetrics,
                 inactivity: float = WATCH_INACTIVITY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.resource = resource
        self.namespace = namespace
        self.index = index
        self.on_change = on_change
        self.metrics = metrics
        self.inactivity = inactivity
        self.synced = asyncio.Event()
        self._clock = clock
        self.last_step = clock()

    def stuck(self) -> bool:
        """No step for longer than a working loop can take (see the module's docstring)."""
        return self._clock() - self.last_step > stall_after(self.inactivity)

    def _step(self) -> None:
        self.last_step = self._clock()

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                version = await self._relist()
                backoff = 0.5
                while True:
                    version = await self._watch_once(version)
            except ApiError as error:
                if error.status == GONE:
                    log.info("%s watch expired; relisting", self.resource.kind)
                else:
                    await self._back_off(error, backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
            except ValueError as error:  # a line that is not JSON
                await self._back_off(error, backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            self._step()
            self.metrics.watch_restarts.labels(self.resource.kind).inc()

    async def _back_off(self, error: Exception, seconds: float) -> None:
        log.warning("%s watch failed (%s); relisting in %.1fs", self.resource.kind, error,
                    seconds)
        await asyncio.sleep(seconds)

    async def _relist(self) -> str:
        items, version = await self.api.list(self.resource.kind, self.namespace,
                                             self.resource.selector)
        self._changed(self.index.replace(self.resource.kind, items))
        self.synced.set()
        self._step()
        return version

    async def _watch_once(self, version: str) -> str:
        """One watch request; returns the resourceVersion to resume from."""
        async for kind, obj in self.api.watch(self.resource.kind, self.namespace, version,
                                              self.resource.selector,
                                              inactivity=self.inactivity):
            self._step()
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._changed(self.index.apply(self.resource.kind, kind, obj))
        return version

    def _changed(self, touched: set[Key]) -> None:
        if touched:
            self.on_change(touched)
        for kind, count in self.index.counts().items():
            self.metrics.indexed.labels(kind).set(count)


class SeatStarter:
    """Asks the operator to start an idle-stopped desktop (the START_REQUESTED annotation)."""

    def __init__(self, api: Kube) -> None:
        self.api = api

    async def request_start(self, seat: Key) -> dict[str, Any] | None:
        """Annotate the Seat; returns it as stored, so the page can show progress at once
        (None when it is gone)."""
        now = format_time(datetime.now(UTC))
        return await self.api.merge_patch(idx.SEAT, seat.namespace, seat.name, {
            "metadata": {"annotations": {labels.START_REQUESTED: now}}})


def reflectors(api: Kube, namespace: str | None, index: idx.SeatIndex,
               on_change: Touched, metrics: GatewayMetrics,
               inactivity: float = WATCH_INACTIVITY) -> list[Reflector]:
    return [Reflector(api, resource, namespace, index, on_change, metrics, inactivity)
            for resource in RESOURCES]
