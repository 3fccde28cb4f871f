"""Run the gateway: watch the API server into the index, serve trainees on one address and
/metrics on another (``metrics_port``; 0: none), so metrics never share the public port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from arcdesk import probes
from arcdesk.api import labels
from arcdesk.gateway import logs, watch
from arcdesk.gateway.app import create_app, create_metrics_app
from arcdesk.gateway.index import SeatIndex
from arcdesk.gateway.state import Gateway, GatewayConfig
from arcdesk.gateway.tokens import Digester
from arcdesk.kube import Kube, connect
from arcdesk.kube.client import WATCH_INACTIVITY

log = logging.getLogger("arcdesk.gateway")

# A connection that has not finished a request within this many seconds of opening (or of
# its last response) is closed: a half-open socket or headers trickled byte by byte cost a
# file descriptor for this long and nothing else (aiohttp serves others meanwhile). Longer
# than the 60 s an ingress-nginx keeps idle upstream connections, so a proxy never sends a
# request on a connection the gateway is closing. WebSockets are not affected once open.
IDLE_TIMEOUT = 75.0


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    metrics_host: str = "0.0.0.0"  # Prometheus (and a kubelet probe) must reach it
    metrics_port: int = 9090  # /metrics, apart from trainee traffic; 0 disables
    namespace: str | None = None  # None: every namespace
    kubeconfig: Path | None = None  # None: $KUBECONFIG, ~/.kube/config, else in-cluster
    config: GatewayConfig = field(default_factory=GatewayConfig)
    watch_inactivity: float = WATCH_INACTIVITY  # seconds: a silent watch is dropped
    idle_timeout: float = IDLE_TIMEOUT  # seconds: see IDLE_TIMEOUT


@dataclass(frozen=True)
class Serving:
    """A running gateway and the ports it listens on (``metrics_port`` 0: no metrics)."""

    gateway: Gateway
    port: int
    metrics_port: int


@contextlib.asynccontextmanager
async def running(options: ServeOptions) -> AsyncIterator[Serving]:
    """Start watching and serving; yields the gateway and its bound ports; stops on exit."""
    api = Kube(connect(options.kubeconfig), field_manager=labels.GATEWAY_FIELD_MANAGER,
               max_concurrency=16)
    gw = Gateway(index=SeatIndex(Digester()), starter=watch.SeatStarter(api),
                 config=options.config)
    tasks = _start_watching(api, gw, options.namespace, options.watch_inactivity)
    runners: list[web.AppRunner] = []
    try:
        runners = await _listen(gw, options)
        serving = Serving(gw, runners[0].addresses[0][1], options.metrics_port)
        _log_listening(options, serving)
        yield serving
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for runner in reversed(runners):
            await runner.cleanup()
        await api.close()


def _start_watching(api: Kube, gw: Gateway, namespace: str | None, inactivity: float,
                    ) -> list[asyncio.Task[None]]:
    loops = watch.reflectors(api, namespace, gw.index, gw.index_changed, gw.metrics,
                             inactivity)
    gw.synced = lambda: all(loop.synced.is_set() for loop in loops)
    gw.live = lambda: not any(loop.stuck() for loop in loops)
    return [asyncio.create_task(loop.run(), name=f"watch-{loop.resource.kind}")
            for loop in loops]


async def _listen(gw: Gateway, options: ServeOptions) -> list[web.AppRunner]:
    """The public listener, then the metrics one; the public one stops if metrics cannot bind."""
    public = await probes.listen(create_app(gw), options.host, options.port,
                                  access_log_class=logs.AccessLogger, handler_cancellation=True,
                                  keepalive_timeout=options.idle_timeout)
    if not options.metrics_port:
        return [public]
    try:
        scrape = await probes.listen(create_metrics_app(gw), options.metrics_host,
                                      options.metrics_port, access_log=None)
    except BaseException:
        await public.cleanup()
        raise
    return [public, scrape]


def _log_listening(options: ServeOptions, serving: Serving) -> None:
    scope = f"namespace {options.namespace}" if options.namespace else "all namespaces"
    log.info("gateway listening on http://%s:%d (%s)", options.host, serving.port, scope)
    if serving.metrics_port:
        log.info("gateway metrics on http://%s:%d/metrics", options.metrics_host,
                 serving.metrics_port)
    else:
        log.info("gateway metrics off (--metrics-port 0)")


async def serve_forever(options: ServeOptions) -> None:
    logs.install_redaction()
    async with running(options):
        await asyncio.Event().wait()
