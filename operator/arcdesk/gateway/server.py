"""Run the gateway: watch the API server into the index and serve HTTP on one address."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from arcdesk.gateway import logs, watch
from arcdesk.gateway.apiserver import ApiServer, load_configuration
from arcdesk.gateway.app import create_app
from arcdesk.gateway.index import SeatIndex
from arcdesk.gateway.state import Gateway, GatewayConfig
from arcdesk.gateway.tokens import Digester

log = logging.getLogger("arcdesk.gateway")


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    namespace: str | None = None  # None: every namespace
    kubeconfig: Path | None = None  # None: in-cluster service account
    config: GatewayConfig = field(default_factory=GatewayConfig)


@contextlib.asynccontextmanager
async def running(options: ServeOptions) -> AsyncIterator[tuple[Gateway, int]]:
    """Start watching and serving; yields the gateway and the bound port; stops on exit."""
    api = ApiServer(load_configuration(options.kubeconfig))
    index = SeatIndex(Digester())
    gw = Gateway(index=index, starter=watch.SeatStarter(api), config=options.config)
    loops = watch.reflectors(api, options.namespace, index, gw.index_changed, gw.metrics)
    gw.synced = lambda: all(loop.synced.is_set() for loop in loops)
    tasks = [asyncio.create_task(loop.run(), name=f"watch-{loop.resource.kind}")
             for loop in loops]
    runner = web.AppRunner(create_app(gw), access_log_class=logs.AccessLogger,
                           handler_cancellation=True)
    try:
        await runner.setup()
        site = web.TCPSite(runner, options.host, options.port)
        await site.start()
        port = runner.addresses[0][1]
        log.info("gateway listening on http://%s:%d (%s)", options.host, port,
                 f"namespace {options.namespace}" if options.namespace else "all namespaces")
        yield gw, port
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        await api.close()


async def serve_forever(options: ServeOptions) -> None:
    logs.install_redaction()
    async with running(options):
        await asyncio.Event().wait()
