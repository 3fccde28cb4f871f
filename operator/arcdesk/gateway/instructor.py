"""The instructor's page: every seat of the course with a live thumbnail, view-only links,
and full control only where the course allows it (``spec.instructor.control``)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from arcdesk.gateway import access, pages, proxy
from arcdesk.gateway.records import AGENT_PORT_NAME, NOVNC_PORT_NAME, Key, SeatInfo

VIEW = "view"
CONTROL = "control"


def course_base(course: Key) -> str:
    return f"/course/{course.namespace}/{course.name}/"


@dataclass(frozen=True)
class Row:
    seat: SeatInfo
    base: str


def _mode(request: web.Request, granted: access.CourseAccess) -> str:
    """``view`` always; ``control`` only when the course allows the instructor full control."""
    mode = request.match_info["mode"]
    if mode == CONTROL and granted.control:
        return mode
    if mode == VIEW:
        return mode
    raise access.refuse(request)


async def enter(request: web.Request) -> web.Response:
    """GET /i/{token}: set the course cookie, then move on to the course page."""
    course = access.gateway(request).index.course_for_token(request.match_info["token"])
    if course is None:
        raise access.refuse(request)
    target = course_base(course)
    response = pages.render(request, "enter.html", target=target)
    access.set_cookie(request, response, access.COURSE_COOKIE, request.match_info["token"],
                      target)
    return response


async def overview(request: web.Request) -> web.Response:
    """GET /course/{namespace}/{course}/: every seat, its phase, thumbnail and links."""
    granted = access.course_access(request)
    base = course_base(granted.course)
    rows = [Row(seat, f"{base}seats/{seat.key.name}/")
            for seat in access.gateway(request).index.seats_of(granted.course)]
    return pages.render(request, "course.html", title=granted.title, rows=rows,
                        control=granted.control)


async def status(request: web.Request) -> web.Response:
    """GET /course/{namespace}/{course}/status.json: each seat's phase, for the open page."""
    granted = access.course_access(request)
    seats = access.gateway(request).index.seats_of(granted.course)
    return web.json_response({"seats": [{"seat": s.seat_id, "phase": s.phase} for s in seats]})


async def thumbnail(request: web.Request) -> web.Response:
    """GET .../seats/{seat}/thumbnail.png: the desktop a few seconds ago (cached)."""
    granted = access.course_access(request)
    seat = access.course_seat(request, granted)
    gw = access.gateway(request)
    address = gw.upstream(seat.key, AGENT_PORT_NAME)
    png = await gw.thumbnails.get(seat.key, address) if address else None
    if png is None:
        raise web.HTTPServiceUnavailable(text="No picture of this desktop right now.\n")
    return web.Response(body=png, content_type="image/png")


async def desktop(request: web.Request) -> web.Response:
    """GET .../seats/{seat}/{mode}: the noVNC page, view-only or (if allowed) in control."""
    granted = access.course_access(request)
    seat = access.course_seat(request, granted)
    mode = _mode(request, granted)
    base = f"{course_base(granted.course)}seats/{seat.key.name}/{mode}/"
    return pages.render(request, "desktop.html", seat=seat, title=granted.title,
                        view_only=mode == VIEW, socket=f"{base}websockify",
                        credentials=f"{base}credentials")


async def credentials(request: web.Request) -> web.Response:
    """GET .../seats/{seat}/{mode}/credentials: the view-only (or full) VNC password."""
    granted = access.course_access(request)
    seat = access.course_seat(request, granted)
    mode = _mode(request, granted)
    access.scripted(request)
    secret = access.gateway(request).index.credentials(seat.key)
    if secret is None:
        raise access.refuse(request)
    password = secret.view_password if mode == VIEW else secret.vnc_password
    return web.json_response({"password": password})


async def websocket(request: web.Request) -> web.StreamResponse:
    """GET .../seats/{seat}/{mode}/websockify: the seat's VNC stream for the instructor."""
    granted = access.course_access(request)
    seat = access.course_seat(request, granted)
    mode = _mode(request, granted)
    access.same_origin(request)
    gw = access.gateway(request)
    address = gw.upstream(seat.key, NOVNC_PORT_NAME)
    if address is None:
        raise web.HTTPServiceUnavailable(text="The desktop is not running.\n")
    digest = gw.index.digester.digest(granted.token)
    course, key = granted.course, seat.key

    def still_allowed() -> bool:
        current = gw.index.seat(key)
        info = gw.index.course(course)
        control_ok = mode == VIEW or bool(info and info.instructor_control)
        return (gw.index.course_for_digest(digest) == course and current is not None
                and current.course_key == course and control_ok)

    connection = proxy.Connection(seat=key, course=course, role="instructor",
                                  still_allowed=still_allowed)
    upstream = await proxy.open_upstream(gw.http, address, proxy.SUBPROTOCOLS)
    return await proxy.relay(request, upstream, connection, gw.connections, gw.metrics)


def routes() -> list[web.RouteDef]:
    course = "/course/{namespace}/{course}/"
    seat = course + "seats/{seat}/"
    return [
        web.get("/i/{token}", enter),
        web.get(course, overview),
        web.get(course + "status.json", status),
        web.get(seat + "thumbnail.png", thumbnail),
        web.get(seat + "{mode}", desktop),
        web.get(seat + "{mode}/credentials", credentials),
        web.get(seat + "{mode}/websockify", websocket),
    ]
