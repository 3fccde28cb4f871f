"""The gateway's aiohttp application: routes, security headers, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from arcdesk.gateway import instructor, pages, trainee
from arcdesk.gateway.metrics import CONTENT_TYPE
from arcdesk.gateway.state import GATEWAY, Gateway

NOVNC_PREFIX = "/novnc/"
STATIC_PREFIX = "/static/"
# Our pages load only our own scripts; noVNC draws on a canvas and opens a same-origin socket.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class NoVncMissing(RuntimeError):
    """The noVNC files are not where the gateway serves them from."""


async def healthz(request: web.Request) -> web.Response:
    """200 once the index has been listed from the API server, 503 before."""
    gw = request.app[GATEWAY]
    synced = gw.synced()
    return web.json_response({"ok": synced, "synced": synced, **gw.index.counts()},
                             status=200 if synced else 503)


async def metrics(request: web.Request) -> web.Response:
    body = request.app[GATEWAY].metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


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
        raise NoVncMissing(f"noVNC not found at {entry}: install the Debian package `novnc` "
                           "(apt-get install novnc) or pass --novnc-dir")


def create_app(gw: Gateway) -> web.Application:
    """The application for ``gw``; opens its client session on startup, closes it after."""
    check_novnc(gw)
    app = web.Application(client_max_size=64 * 1024)
    app[GATEWAY] = gw

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        await gw.open()
        yield
        await gw.close()

    app.cleanup_ctx.append(lifetime)
    app.on_response_prepare.append(security_headers)
    app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics)])
    app.add_routes(trainee.routes())
    app.add_routes(instructor.routes())
    app.router.add_static(NOVNC_PREFIX, gw.config.novnc_dir, follow_symlinks=False)
    app.router.add_static(STATIC_PREFIX, pages.STATIC)
    return app
