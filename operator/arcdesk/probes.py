"""The one probe listener of the operator and the gateway: GET /metrics and GET /healthz
on an address of their own, apart from any public traffic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Exposition(Protocol):
    def exposition(self) -> bytes:
        """The registry's samples in Prometheus' text format."""


def probe_app(metrics: Exposition, healthy: Callable[[], bool],
              refresh: Callable[[], None] | None = None) -> web.Application:
    """GET /metrics (``refresh``, if any, first updates gauges) and GET /healthz, nothing
    else."""

    async def metrics_page(_: web.Request) -> web.Response:
        if refresh is not None:
            refresh()
        return web.Response(body=metrics.exposition(),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(_: web.Request) -> web.Response:
        ok = healthy()
        return web.Response(status=200 if ok else 503, text="ok\n" if ok else "unhealthy\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", health)
    return app


async def listen(app: web.Application, host: str, port: int,
                 **runner_options: Any) -> web.AppRunner:
    """Serve ``app`` on ``host:port`` (``runner_options`` go to :class:`web.AppRunner`);
    ``cleanup()`` the runner to stop. Nothing is left behind when the port is taken."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve(metrics: Exposition, refresh: Callable[[], None], healthy: Callable[[], bool],
                host: str, port: int) -> web.AppRunner:
    """Serve :func:`probe_app` on ``host:port``, without an access log (scrapes are frequent)."""
    return await listen(probe_app(metrics, healthy, refresh), host, port, access_log=None)
