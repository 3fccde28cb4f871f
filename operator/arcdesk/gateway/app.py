"""The gateway's aiohttp applications: the public one (trainee and instructor routes, noVNC,
security headers, /healthz) and the metrics one, which :mod:`arcdesk.gateway.server` serves
on a listener of its own (``--metrics-port``): /metrics never shares the port trainees reach."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from arcdesk import probes
from arcdesk.gateway import access, instructor, novnc, pages, trainee
from arcdesk.gateway.state import GATEWAY, Gateway

NOVNC_PREFIX = "/novnc/"
STATIC_PREFIX = "/static/"
# Our pages load only our own scripts; noVNC draws on a canvas and opens a same-origin socket.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class NoVncMissing(RuntimeError):
    """The noVNC files are not where the gateway serves them from."""


async def healthz(request: web.Request) -> web.Response:
    """200 once the index has been listed from the API server, 503 before.

    Kept on the public port: the chart's readinessProbe checks the listener its Service
    routes to (``port: http``), and the demo and the desktop and cluster tests wait on it.
    Anyone can reach it, so it says ok or not and nothing else: how many courses, seats
    and credentials the gateway holds is on the metrics listener
    (``arcdesk_gateway_indexed_objects``).
    """
    ok = request.app[GATEWAY].synced()
    return web.Response(text="ok\n" if ok else "unhealthy\n", status=200 if ok else 503)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Links carry tokens: never tell another site where the browser came from.
    headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith((NOVNC_PREFIX, STATIC_PREFIX)):
        headers["Cache-Control"] = "no-store"


def check_novnc(gw: Gateway) -> None:
    entry = gw.config.novnc_dir / "core" / "rfb.js"
    if not entry.is_file():
        raise NoVncMissing(f"noVNC not found at {entry}: run `arcdesk gateway install-novnc` "
                           f"(noVNC {novnc.VERSION} from the npm registry) or pass --novnc-dir")


def create_app(gw: Gateway) -> web.Application:
    """The application for ``gw``; opens its client session on startup, closes it after."""
    check_novnc(gw)
    app = web.Application(client_max_size=64 * 1024, middlewares=[access.slow_refusals])
    app[GATEWAY] = gw

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        await gw.open()
        yield
        await gw.close()

    app.cleanup_ctx.append(lifetime)
    app.on_response_prepare.append(security_headers)
    app.add_routes([web.get("/healthz", healthz)])  # no /metrics here: see create_metrics_app
    app.add_routes(trainee.routes())
    app.add_routes(instructor.routes())
    app.router.add_static(NOVNC_PREFIX, gw.config.novnc_dir, follow_symlinks=False)
    app.router.add_static(STATIC_PREFIX, pages.STATIC)
    return app


def create_metrics_app(gw: Gateway) -> web.Application:
    """GET /metrics and the liveness /healthz of ``gw``, for the separate metrics listener.

    /healthz here fails only while a watch loop is stuck (arcdesk.gateway.watch): an API
    server outage, during which the gateway still serves what it has indexed, is no reason
    for the kubelet to restart it. Readiness is the public port's /healthz."""
    # gw.live is set once the watches start, hence the lambda; the gateway's gauges are
    # kept current as things happen, so there is nothing to refresh before a scrape.
    return probes.probe_app(gw.metrics, lambda: gw.live())
