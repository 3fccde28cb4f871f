"""Prometheus metrics of the operator, and the probe listener (/metrics and /healthz) that the
operator and the gateway each serve on a port of its own."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

SEAT_PHASES = ("Pending", "Scheduled", "Starting", "Running", "Stopped", "Failed")


class Metrics:
    """One registry per operator instance (tests may start several in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "arcdesk_reconciles", "Reconciles by kind (Course, Seat) and result (ok, error).",
            ["kind", "result"], registry=self.registry)
        self.duration = Histogram(
            "arcdesk_reconcile_duration_seconds", "Time one reconcile took, by kind.", ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry)
        self.api_requests = Counter(
            "arcdesk_api_requests", "Requests to the API server by verb and HTTP status.",
            ["verb", "code"], registry=self.registry)
        self.queue_depth = Gauge(
            "arcdesk_workqueue_depth", "Keys waiting to be reconciled.", registry=self.registry)
        self.seats = Gauge("arcdesk_seats", "Seats by phase.", ["phase"], registry=self.registry)

    def api_request(self, verb: str, code: int, seconds: float) -> None:
        self.api_requests.labels(verb, str(code)).inc()

    def observe_seats(self, phases: Iterable[str]) -> None:
        counts = Tally(phases)
        for phase in sorted({*SEAT_PHASES, *counts}):
            self.seats.labels(phase or "Unknown").set(counts.get(phase, 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


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
