"""The watch loop survives what a real API server does to long watches: errors, expired
resourceVersions (410 Gone) and deletions missed in between. A small loopback server
speaks the list/watch protocol in a scripted order; the desktop tier covers the real one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

from arcdesk.gateway import index as idx
from arcdesk.gateway.metrics import GatewayMetrics
from arcdesk.gateway.records import Key
from arcdesk.gateway.tokens import Digester
from arcdesk.gateway.watch import RESOURCES, Reflector
from tests.unit.gateway_helpers import seats_api

pytestmark = pytest.mark.unit
SEATS = next(r for r in RESOURCES if r.kind == idx.SEAT)


def seat(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": version},
            "spec": {"course": "c", "id": name, "state": "Running"},
            "status": {"phase": "Running"}}


class ScriptedApiServer:
    """list -> 500; list [a]; watch: ADDED b, then 410; list [b]; watch: bookmark, then idle."""

    def __init__(self) -> None:
        self.lists = 0
        self.watched_from: list[str] = []
        self.settled = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") == "1":
            return await self.watch(request)
        self.lists += 1
        if self.lists == 1:
            return web.json_response({"kind": "Status", "message": "etcd hiccup"}, status=500)
        items, version = ([seat("a", "10")], "10") if self.lists == 2 else ([seat("b", "20")],
                                                                             "20")
        return web.json_response({"items": items, "metadata": {"resourceVersion": version}})

    async def watch(self, request: web.Request) -> web.StreamResponse:
        self.watched_from.append(request.query["resourceVersion"])
        response = web.StreamResponse()
        await response.prepare(request)
        if len(self.watched_from) == 1:
            await self.send(response, "ADDED", seat("b", "11"))
            await self.send(response, "ERROR", {"kind": "Status", "code": 410,
                                                "message": "too old resource version"})
            return response
        await self.send(response, "BOOKMARK", {"metadata": {"resourceVersion": "25"}})
        self.settled.set()
        await self.release.wait()  # an open, quiet watch until the test is done
        return response

    @staticmethod
    async def send(response: web.StreamResponse, kind: str, obj: dict[str, Any]) -> None:
        await response.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")


def test_relist_after_error_and_expired_watch_drops_what_was_deleted_meanwhile() -> None:
    index = idx.SeatIndex(Digester())
    metrics = GatewayMetrics()
    touched: list[Key] = []
    script = ScriptedApiServer()

    async def main() -> None:
        async with seats_api(script.handle) as api:
            reflector = Reflector(api, SEATS, None, index, touched.extend, metrics)
            task = asyncio.create_task(reflector.run())
            try:
                await asyncio.wait_for(script.settled.wait(), timeout=10)
                assert reflector.synced.is_set()
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                script.release.set()

    asyncio.run(main())
    assert index.seat(Key("ns", "a")) is None  # deleted while the watch was down
    assert index.seat(Key("ns", "b")) is not None
    assert Key("ns", "a") in touched  # open desktops of seat a get re-checked and closed
    assert script.watched_from == ["10", "20"]  # each watch resumes from its own list
    assert script.lists == 3
    restarts = metrics.registry.get_sample_value("arcdesk_gateway_watch_restarts_total",
                                                 {"kind": idx.SEAT})
    assert restarts == 2
