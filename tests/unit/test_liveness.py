"""Liveness that means something: the gateway drops a watch stream that went silent (a dead
connection nobody closed) and resumes it, its probe fails only for a loop that stopped making
any step, and the operator's probe fails when due work waits for workers that never come.
The silent stream is a real HTTP stream on loopback that sends nothing after its headers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from arcdesk.engine.runtime import QUEUE_STALL, Options, Runtime
from arcdesk.engine.workqueue import WorkQueue
from arcdesk.gateway import index as idx
from arcdesk.gateway.metrics import GatewayMetrics
from arcdesk.gateway.tokens import Digester
from arcdesk.gateway.watch import RESOURCES, Reflector, stall_after
from arcdesk.kube import Connection, Kube
from tests.unit.gateway_helpers import seats_api

pytestmark = pytest.mark.unit
SEATS = next(r for r in RESOURCES if r.kind == idx.SEAT)
INACTIVITY = 0.3


class SilentWatchServer:
    """Lists answer at once; every watch sends its headers and then nothing, ever."""

    def __init__(self) -> None:
        self.lists = 0
        self.watches = 0
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") != "1":
            self.lists += 1
            return web.json_response({"items": [], "metadata": {"resourceVersion": "7"}})
        self.watches += 1
        response = web.StreamResponse()
        await response.prepare(request)
        await self.release.wait()
        return response


def test_a_silent_watch_is_dropped_and_resumed_within_its_inactivity() -> None:
    server, metrics = SilentWatchServer(), GatewayMetrics()
    alive: list[bool] = []

    async def main() -> None:
        async with seats_api(server.handle) as api:
            reflector = Reflector(api, SEATS, None, idx.SeatIndex(Digester()), lambda _: None,
                                  metrics, inactivity=INACTIVITY)
            task = asyncio.create_task(reflector.run())
            try:
                await asyncio.sleep(INACTIVITY * 6)
                alive.append(not reflector.stuck())
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                server.release.set()

    asyncio.run(main())
    assert server.watches >= 2, "the silent stream was never abandoned"
    assert server.lists >= 2  # a broken stream means a fresh list (deletions missed)
    assert metrics.registry.get_sample_value(
        "arcdesk_gateway_watch_restarts_total", {"kind": idx.SEAT}) >= 1
    assert alive == [True]  # dropping and resuming is progress, not a stuck loop


def test_a_loop_with_no_step_for_longer_than_any_timeout_is_stuck() -> None:
    now = [1000.0]
    reflector = Reflector(Kube(Connection("http://127.0.0.1:9", False, lambda: None, "x")),
                          SEATS, None, idx.SeatIndex(Digester()), lambda _: None,
                          GatewayMetrics(), clock=lambda: now[0])
    now[0] += stall_after(reflector.inactivity) - 1
    assert not reflector.stuck()
    now[0] += 2
    assert reflector.stuck()
    # An outage is not "stuck": each failed retry is a step (every <= 60 s by its timeouts).
    assert stall_after(reflector.inactivity) >= 2 * 60


def test_operator_is_unhealthy_when_due_work_waits_for_workers() -> None:
    now = [0.0]

    async def main() -> list[bool]:
        runtime = Runtime(Options(probe_port=0))
        runtime.queue = WorkQueue(clock=lambda: now[0])
        worker: asyncio.Task[Any] = asyncio.create_task(asyncio.sleep(3600))
        runtime._tasks = [worker]  # a worker that runs but never takes work (hung)
        runtime.queue.add(("Seat", "ns", "s1"))
        seen = [runtime.healthy()]
        now[0] += QUEUE_STALL + 1
        seen.append(runtime.healthy())
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        return seen

    assert asyncio.run(main()) == [True, False]
