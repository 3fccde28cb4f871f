"""The trainee's path: personal link -> seat cookie -> landing page -> desktop."""

from __future__ import annotations

import logging

from aiohttp import web

from arcdesk.gateway import access, pages, proxy, tokens
from arcdesk.gateway.index import SEAT
from arcdesk.gateway.records import NOVNC_PORT_NAME, Key, SeatInfo
from arcdesk.gateway.state import Gateway
from arcdesk.kube import ApiError

log = logging.getLogger("arcdesk.gateway")
START = "start"


def seat_base(seat: Key) -> str:
    return f"/seat/{seat.namespace}/{seat.name}/"


async def enter(request: web.Request) -> web.Response:
    """GET /s/{token}: set the seat cookie, then move on to the landing page."""
    token = request.match_info["token"]
    gw = access.gateway(request)
    seat = gw.index.seat_for_token(token)
    if seat is None:
        raise access.refuse(request)
    target = seat_base(seat)
    response = pages.render(request, "enter.html", target=target)
    access.set_cookie(request, response, access.SEAT_COOKIE, token, target)
    return response


def current_view(gw: Gateway, seat: SeatInfo) -> pages.SeatView:
    """What the seat's page offers now, from the index."""
    reachable = gw.upstream(seat.key, NOVNC_PORT_NAME) is not None
    return pages.seat_view(seat, gw.index.course(seat.course_key), reachable)


async def landing(request: web.Request) -> web.Response:
    """GET /seat/{namespace}/{seat}/: course title, seat, status, Connect or Start."""
    granted = access.seat_access(request)
    gw = access.gateway(request)
    seat = granted.seat
    course = gw.index.course(seat.course_key)
    return pages.render(request, "seat.html", seat=seat,
                        title=course.title if course else seat.course,
                        view=current_view(gw, seat), base=seat_base(seat.key),
                        csrf=tokens.csrf_token(granted.token, f"{START}:{seat.key}"))


async def status(request: web.Request) -> web.Response:
    """GET /seat/{namespace}/{seat}/status.json?state=S: the page's state, once it is not S.

    A long poll: while the seat's state is still ``S`` the answer waits (up to
    ``GatewayConfig.status_wait``) for the watch to bring a change, so a page learns that
    its desktop is ready the moment the gateway does.
    """
    granted = access.seat_access(request)
    access.scripted(request)
    gw = access.gateway(request)
    key, known = granted.seat.key, request.query.get("state", "")
    view = current_view(gw, granted.seat)
    if view.state == known and await gw.waiters.wait(key, gw.config.status_wait):
        seat = gw.index.seat(key)
        if seat is None:
            raise access.refuse(request)
        view = current_view(gw, seat)
    return web.json_response({"state": view.state, "text": view.text},
                             headers={"Cache-Control": "no-store"})


async def start(request: web.Request) -> web.Response:
    """POST /seat/{namespace}/{seat}/start: ask the operator to wake an idle-stopped desktop."""
    granted = access.seat_access(request)
    access.same_origin(request)
    form = await request.post()
    presented = str(form.get("csrf", ""))
    if not tokens.csrf_valid(granted.token, f"{START}:{granted.seat.key}", presented):
        raise access.refuse(request)
    gw = access.gateway(request)
    seat = granted.seat
    if pages.startable(seat, gw.index.course(seat.course_key)) and not seat.start_requested:
        try:
            updated = await gw.starter.request_start(seat.key)
        except ApiError as error:
            log.warning("start request for seat %s failed: %s", seat.key, error)
            raise web.HTTPServiceUnavailable(text="Could not start the desktop; "
                                             "try again in a moment.\n") from error
        if updated is not None:  # show "starting" now, not when the watch catches up
            gw.index.apply(SEAT, "MODIFIED", updated)
        log.info("start requested for seat %s", seat.key)
    raise web.HTTPSeeOther(seat_base(seat.key))


async def desktop(request: web.Request) -> web.Response:
    """GET /seat/{namespace}/{seat}/desktop: the noVNC page (full control)."""
    granted = access.seat_access(request)
    gw = access.gateway(request)
    seat = granted.seat
    course = gw.index.course(seat.course_key)
    base = seat_base(seat.key)
    return pages.render(request, "desktop.html", seat=seat,
                        title=course.title if course else seat.course, view_only=False,
                        socket=f"{base}websockify", credentials=f"{base}credentials")


async def credentials(request: web.Request) -> web.Response:
    """GET /seat/{namespace}/{seat}/credentials: the VNC password, for our own script only."""
    granted = access.seat_access(request)
    access.scripted(request)
    secret = access.gateway(request).index.credentials(granted.seat.key)
    if secret is None:
        raise access.refuse(request)
    return web.json_response({"password": secret.vnc_password})


async def websocket(request: web.Request) -> web.StreamResponse:
    """GET /seat/{namespace}/{seat}/websockify: the desktop's VNC stream, proxied."""
    granted = access.seat_access(request)
    access.same_origin(request)
    gw = access.gateway(request)
    key = granted.seat.key
    address = gw.upstream(key, NOVNC_PORT_NAME)
    if address is None:
        raise web.HTTPServiceUnavailable(text="The desktop is not running.\n")
    digest = gw.index.digester.digest(granted.token)
    connection = proxy.Connection(
        seat=key, course=granted.seat.course_key, role="trainee",
        still_allowed=lambda: gw.index.seat_for_digest(digest) == key)
    upstream = await proxy.open_upstream(gw.http, address, proxy.SUBPROTOCOLS)
    return await proxy.relay(request, upstream, connection, gw.connections, gw.metrics)


def routes() -> list[web.RouteDef]:
    seat = "/seat/{namespace}/{seat}/"
    return [
        web.get("/s/{token}", enter),
        web.get(seat, landing),
        web.get(seat + "status.json", status),
        web.post(seat + "start", start),
        web.get(seat + "desktop", desktop),
        web.get(seat + "credentials", credentials),
        web.get(seat + "websockify", websocket),
    ]

