"""Who may do what: token checks, cookies, rate limiting, same-origin rules.

Every refusal looks the same (403 ``Forbidden``), whatever was wrong, and counts as a
failed attempt of the client. A client's refusals are slowed down once it failed often
(``ratelimit.FailureLimiter`` says why and how much); a valid token is never refused or
delayed for anyone's failures, its own included.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from arcdesk.api.naming import is_dns_label
from arcdesk.gateway.ratelimit import client_address
from arcdesk.gateway.records import CourseInfo, Key, SeatInfo
from arcdesk.gateway.state import GATEWAY, Gateway

SEAT_COOKIE = "arcdesk_seat"
COURSE_COOKIE = "arcdesk_course"
REQUEST_HEADER = "X-Arcdesk-Request"  # custom header: cross-site pages cannot send it
FORBIDDEN = "Forbidden\n"
TOO_MANY = "Too many failed attempts; try again later.\n"
REFUSAL_DELAY = web.RequestKey("arcdesk_refusal_delay", float)  # seconds to hold a 403
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("arcdesk.gateway")


@dataclass(frozen=True)
class SeatAccess:
    seat: SeatInfo
    token: str


@dataclass(frozen=True)
class CourseAccess:
    course: Key
    info: CourseInfo | None
    token: str

    @property
    def title(self) -> str:
        return self.info.title if self.info else self.course.name

    @property
    def control(self) -> bool:
        return bool(self.info and self.info.instructor_control)


def gateway(request: web.Request) -> Gateway:
    return request.app[GATEWAY]


def client_of(request: web.Request) -> str:
    return client_address(request.remote, request.headers.get("X-Forwarded-For"),
                          gateway(request).config.trusted_proxies)


def refuse(request: web.Request) -> web.HTTPException:
    """A failed attempt: count it, log it (the route, never the token) and answer 403
    without saying why; ``slow_refusals`` makes the answer wait when the client failed
    often."""
    gw = gateway(request)
    client = client_of(request)
    request[REFUSAL_DELAY] = gw.limiter.fail(client)
    gw.metrics.auth_failures.inc()
    log.info("refused %s %s from %s (%d recent failures)", request.method,
             request.match_info.route.resource.canonical if request.match_info.route.resource
             else "?", client, gw.limiter.recent(client))
    return web.HTTPForbidden(text=FORBIDDEN)


@web.middleware
async def slow_refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hold back a refusal by the delay ``refuse`` set; 429 at once when too many wait."""
    try:
        return await handler(request)
    except web.HTTPForbidden:
        delay = float(request.get(REFUSAL_DELAY, 0.0))
        if delay <= 0:
            raise
        gw = gateway(request)
        if not gw.limiter.may_wait():
            gw.metrics.rate_limited.inc()
            raise web.HTTPTooManyRequests(
                text=TOO_MANY, headers={"Retry-After": str(math.ceil(delay))}) from None
        gw.metrics.slowed.inc()
        try:
            await asyncio.sleep(delay)
        finally:
            gw.limiter.done_waiting()
        raise


def path_key(request: web.Request, name_field: str) -> Key:
    """The (namespace, name) a URL addresses; malformed parts are a refusal, not a lookup."""
    namespace = request.match_info["namespace"]
    name = request.match_info[name_field]
    if not (is_dns_label(namespace) and is_dns_label(name)):
        raise refuse(request)
    return Key(namespace, name)


def seat_access(request: web.Request) -> SeatAccess:
    """The seat in the URL, if the request's seat cookie opens exactly that seat."""
    key = path_key(request, "seat")
    token = request.cookies.get(SEAT_COOKIE, "")
    gw = gateway(request)
    seat = gw.index.seat(key)
    if seat is None or gw.index.seat_for_token(token) != key:
        raise refuse(request)
    return SeatAccess(seat, token)


def course_access(request: web.Request) -> CourseAccess:
    """The course in the URL, if the request's instructor cookie opens that course."""
    key = path_key(request, "course")
    token = request.cookies.get(COURSE_COOKIE, "")
    gw = gateway(request)
    if gw.index.course_for_token(token) != key:
        raise refuse(request)
    return CourseAccess(key, gw.index.course(key), token)


def course_seat(request: web.Request, access: CourseAccess) -> SeatInfo:
    """A seat of the instructor's course named in the URL (``{seat}``)."""
    name = request.match_info["seat"]
    seat = gateway(request).index.seat(Key(access.course.namespace, name)) \
        if is_dns_label(name) else None
    if seat is None or seat.course_key != access.course:
        raise refuse(request)
    return seat


def same_origin(request: web.Request) -> None:
    """State changes and sockets must come from our own pages: the Origin matches the Host,
    or, where a browser hides the origin ("null"), it vouches with Sec-Fetch-Site."""
    origin = request.headers.get("Origin", "null")
    if origin == "null":
        if request.headers.get("Sec-Fetch-Site") != "same-origin":
            raise refuse(request)
    elif urlsplit(origin).netloc != request.host:
        raise refuse(request)


def scripted(request: web.Request) -> None:
    """Secrets go only to our own scripts: a custom header forces a same-origin request."""
    if request.headers.get(REQUEST_HEADER) != "1":
        raise refuse(request)
    if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        raise refuse(request)


def _loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def secure_cookies(request: web.Request) -> bool:
    """Secure cookies, except over plain HTTP to a loopback address (a local demo) or to a
    gateway its admin runs on plain HTTP (``--plain-http``: a lab network they trust)."""
    if request.scheme == "https":
        return True
    return not (_loopback(request.host) or gateway(request).config.plain_http)


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
               path: str) -> None:
    response.set_cookie(name, value, path=path, httponly=True, samesite="Strict",
                        secure=secure_cookies(request))
