"""Prometheus metrics of the operator and the HTTP endpoint for /metrics and /healthz."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable

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


async def serve(metrics: Metrics, refresh: Callable[[], None], healthy: Callable[[], bool],
                host: str, port: int) -> web.AppRunner:
    """Serve GET /metrics (``refresh`` first updates gauges) and GET /healthz."""

    async def metrics_page(_: web.Request) -> web.Response:
        refresh()
        return web.Response(body=metrics.exposition(),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(_: web.Request) -> web.Response:
        ok = healthy()
        return web.Response(status=200 if ok else 503, text="ok\n" if ok else "unhealthy\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
