"""Keep the seat index in step with the API server: list, then watch, per kind.

Each kind has its own loop. A watch the server ends normally resumes from the last
resourceVersion (bookmarks keep it fresh); an expired one (HTTP 410) or any error leads to a
full relist that *replaces* the kind in the index, so deletions missed meanwhile are seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from arcdesk import labels
from arcdesk.gateway import index as idx
from arcdesk.gateway.apiserver import ApiError, ApiServer, Gone, Resource
from arcdesk.gateway.metrics import GatewayMetrics
from arcdesk.gateway.records import Key

log = logging.getLogger("arcdesk.gateway")

_ARCDESK_API = f"apis/{labels.API_VERSION}"
_MANAGED = f"{labels.MANAGED_BY}={labels.MANAGER}"
RESOURCES = (
    Resource(idx.COURSE, _ARCDESK_API, "courses"),
    Resource(idx.SEAT, _ARCDESK_API, "seats"),
    Resource(idx.SECRET, "api/v1", "secrets",
             f"{_MANAGED},{labels.COMPONENT} in (credentials,instructor)"),
    # The EndpointSlice controller copies the seat Service's labels onto its slices.
    Resource(idx.ENDPOINT_SLICE, "apis/discovery.k8s.io/v1", "endpointslices",
             f"{_MANAGED},{labels.COMPONENT}=desktop,kubernetes.io/service-name"),
)
BACKOFF_MAX = 30.0
Touched = Callable[[set[Key]], None]


class Reflector:
    """Mirror one resource into the index; ``synced`` is set after the first full list."""

    def __init__(self, api: ApiServer, resource: Resource, namespace: str | None,
                 index: idx.SeatIndex, on_change: Touched, metrics: GatewayMetrics) -> None:
        self.api = api
        self.resource = resource
        self.namespace = namespace
        self.index = index
        self.on_change = on_change
        self.metrics = metrics
        self.synced = asyncio.Event()

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                version = await self._relist()
                backoff = 0.5
                while True:
                    version = await self._watch_once(version)
            except Gone:
                log.info("%s watch expired; relisting", self.resource.kind)
            except (TimeoutError, ApiError, aiohttp.ClientError, OSError, ValueError) as error:
                log.warning("%s watch failed (%s); relisting in %.1fs",
                            self.resource.kind, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            self.metrics.watch_restarts.labels(self.resource.kind).inc()

    async def _relist(self) -> str:
        items, version = await self.api.list(self.resource, self.namespace)
        self._changed(self.index.replace(self.resource.kind, items))
        self.synced.set()
        return version

    async def _watch_once(self, version: str) -> str:
        """One watch request; returns the resourceVersion to resume from."""
        async for kind, obj in self.api.watch(self.resource, self.namespace, version):
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

    def __init__(self, api: ApiServer) -> None:
        self.api = api

    async def request_start(self, seat: Key) -> dict[str, Any]:
        """Annotate the Seat; returns it as stored, so the page can show progress at once."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        path = Resource(idx.SEAT, _ARCDESK_API, "seats").path(seat.namespace) + f"/{seat.name}"
        return await self.api.merge_patch(path, {"metadata": {"annotations": {
            labels.START_REQUESTED: now}}})


def reflectors(api: ApiServer, namespace: str | None, index: idx.SeatIndex,
               on_change: Touched, metrics: GatewayMetrics) -> list[Reflector]:
    return [Reflector(api, resource, namespace, index, on_change, metrics)
            for resource in RESOURCES]
