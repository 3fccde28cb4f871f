"""Every way in that must stay shut, over HTTP and WebSocket, against the real gateway with
a real desktop behind it and its seats in the devcluster."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from arcdesk.api import labels
from arcdesk.api.credentials import new_token
from devcluster import desktops, kit
from tests.desktop.clients import run

if TYPE_CHECKING:
    from tests.desktop.gateway_fixtures import Gateway, Seat

pytest_plugins = ["tests.desktop.gateway_fixtures"]  # gateway, seats and the cluster fixtures

FORBIDDEN = b"Forbidden\n"
RFB_GREETING = b"RFB 003.008\n"
SCRIPT = {"X-Arcdesk-Request": "1"}


def client(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{n}"}


def cookie(seat: Seat) -> dict[str, str]:
    return {"Cookie": f"arcdesk_seat={seat.token}"}


async def open_desktop(session: aiohttp.ClientSession, gw: Gateway, path: str,
                       headers: dict[str, str]) -> aiohttp.ClientWebSocketResponse:
    """A socket through the gateway that has already heard Xvnc's RFB greeting.

    Xvnc black-lists a host after 5 unauthenticated connections, and through websockify
    every viewer is 127.0.0.1: so each test module opens at most one such raw socket (the
    revocation tests connect through noVNC, which authenticates)."""
    ws = await session.ws_connect(gw.url + path, headers={"Origin": gw.url, **headers},
                                  protocols=("binary",))
    assert await ws.receive_bytes(timeout=10) == RFB_GREETING
    return ws


def test_seat_a_token_never_opens_seat_b(gateway: Gateway, seats: list[Seat]) -> None:
    a, b = seats
    for suffix in ("", "desktop", "credentials"):
        status, body, _ = gateway.get(b.base + suffix, {**cookie(a), **SCRIPT, **client(1)})
        assert (status, body) == (403, FORBIDDEN), suffix

    async def scenario(session: aiohttp.ClientSession) -> None:
        try:
            await open_desktop(session, gateway, b.base + "websockify", {**cookie(a), **client(1)})
        except aiohttp.WSServerHandshakeError as refused:
            assert refused.status == 403
        else:
            raise AssertionError("seat A's cookie opened seat B's desktop")

    run(scenario)


def test_unknown_malformed_and_crossed_tokens_get_the_same_bare_403(
        gateway: Gateway, seats: list[Seat]) -> None:
    seat = seats[0]
    for path in (f"/s/{new_token()}", "/s/short", f"/s/{'x' * 300}", f"/s/{seat.token}x",
                 f"/s/{seat.instructor_token}", f"/i/{seat.token}", f"/i/{new_token()}",
                 f"/seat/{seat.namespace}/{seat.name}/", f"{seat.course_base}"):
        status, body, headers = gateway.get(path, client(2 + len(path) % 50))
        assert (status, body) == (403, FORBIDDEN), path
        assert "Set-Cookie" not in headers


def connect_in_browser(page: Any, gw: Gateway, seat: Seat) -> None:
    page.goto(f"{gw.url}/s/{seat.token}")
    page.wait_for_url(f"{gw.url}{seat.base}")
    page.click("#connect")
    page.wait_for_function("() => document.body.dataset.state === 'connected'", timeout=20000)


def wait_refused(page: Any) -> None:
    """The open desktop closed, and its page's reconnect was refused: it says so."""
    page.wait_for_function("() => document.body.dataset.state === 'refused'", timeout=15000)
    assert "Not allowed" in page.inner_text("#status")


def test_reissued_token_closes_the_open_desktop_and_only_the_new_link_works(
        gateway: Gateway, seats: list[Seat], kubectl: kit.Kubectl, page: Any,
        browser: Any) -> None:
    seat, other = seats
    fresh = new_token()
    connect_in_browser(page, gateway, seat)
    bystander = browser.new_page()
    try:
        connect_in_browser(bystander, gateway, other)
        kubectl.run("-n", seat.namespace, "patch", "secret", seat.name, "--type=merge",
                    "-p", json.dumps({"stringData": {"token": fresh}}))
        wait_refused(page)
        assert bystander.evaluate("() => document.body.dataset.state") == "connected"
    finally:
        bystander.close()
    assert gateway.get(f"/s/{seat.token}", client(60))[0] == 403
    assert gateway.get(f"/s/{fresh}", client(61))[0] == 200


def test_deleted_seat_closes_its_desktop(gateway: Gateway, seats: list[Seat],
                                         kubectl: kit.Kubectl, page: Any) -> None:
    seat = seats[0]
    connect_in_browser(page, gateway, seat)
    kubectl.run("-n", seat.namespace, "delete", "seat", seat.name, "--wait=false")
    wait_refused(page)
    assert gateway.get(f"/s/{seat.token}", client(62))[0] == 403


def test_socket_needs_our_origin_and_never_dials_what_the_request_names(
        gateway: Gateway, seats: list[Seat]) -> None:
    seat = seats[0]

    async def scenario(session: aiohttp.ClientSession) -> None:
        url = gateway.url + seat.base + "websockify"
        for origin in ({}, {"Origin": "http://evil.example"}):
            try:
                await session.ws_connect(url, headers={**origin, **cookie(seat), **client(70)})
            except aiohttp.WSServerHandshakeError as refused:
                assert refused.status == 403
            else:
                raise AssertionError(f"socket opened with {origin or 'no Origin'}")
        ws = await open_desktop(session, gateway, seat.base + "websockify?host=192.0.2.99&port=22"
                                "&token=x", cookie(seat))  # still our desktop's Xvnc
        await ws.close()

    run(scenario)
    assert gateway.get("/proxy/127.0.0.1:22", client(71))[0] == 404


def test_failed_attempts_slow_that_client_but_never_lock_out_a_valid_link(
        gateway: Gateway, seats: list[Seat]) -> None:
    """One address for a whole class (NAT): ten bad tokens from it slow its next bad
    attempt down, and a valid link from the same address still opens at once."""
    for _ in range(10):
        assert gateway.get(f"/s/{new_token()}", client(80))[0] == 403
    started = time.monotonic()
    assert gateway.get(f"/s/{new_token()}", client(80))[0] == 403
    assert time.monotonic() - started >= 0.25  # held back
    started = time.monotonic()
    status, body, _ = gateway.get(f"/s/{seats[0].token}", client(80))
    assert status == 200 and time.monotonic() - started < 0.25
    assert seats[0].token.encode() not in body
    assert gateway.get(f"/s/{seats[0].token}", client(81))[0] == 200


def test_start_request_needs_the_pages_csrf_token_and_our_origin(
        gateway: Gateway, seats: list[Seat], kubectl: kit.Kubectl) -> None:
    seat = seats[0]
    seat.set_status(kubectl, {"phase": "Stopped", "idleStopped": True})
    kit.wait_for("the start button", lambda: b'id="start"' in gateway.get(
        seat.base, {**cookie(seat), **client(90)})[1], timeout=15, interval=0.2)

    async def scenario(session: aiohttp.ClientSession) -> None:
        for data, origin in (({"csrf": "0" * 64}, gateway.url), ({}, gateway.url),
                             ({"csrf": "0" * 64}, "http://evil.example")):
            async with session.post(gateway.url + seat.base + "start", data=data,
                                    headers={"Origin": origin, **cookie(seat), **client(91)},
                                    allow_redirects=False) as response:
                assert response.status == 403

    run(scenario)
    annotations = kubectl.get_json("-n", seat.namespace, "seat", seat.name)["metadata"].get(
        "annotations") or {}
    assert labels.START_REQUESTED not in annotations


def test_instructor_full_control_only_where_the_course_allows_it(
        gateway: Gateway, seats: list[Seat], kubectl: kit.Kubectl, namespace: str,
        desktop_session: desktops.DesktopSession) -> None:
    from tests.desktop.gateway_fixtures import register_seats, wait_open

    strict = seats[0]
    relaxed = register_seats(kubectl, namespace, desktop_session, control=True,
                             course_name="ctl")[0]
    wait_open(gateway, f"/i/{relaxed.instructor_token}")
    for seat, expected in ((strict, 403), (relaxed, 200)):
        headers = {"Cookie": f"arcdesk_course={seat.instructor_token}", **SCRIPT, **client(95)}
        base = f"{seat.course_base}seats/{seat.name}/"
        status, body, _ = gateway.get(base + "control/credentials", headers)
        assert status == expected
        if expected == 200:
            assert json.loads(body) == {"password": desktops.FULL_PASSWORD}
        view = json.loads(gateway.get(base + "view/credentials", headers)[1])
        assert view == {"password": desktops.VIEW_PASSWORD}


def test_logs_never_show_tokens_or_passwords(gateway: Gateway, seats: list[Seat]) -> None:
    seat = seats[0]
    gateway.get(f"/s/{seat.token}", client(100))
    gateway.get(seat.base + "credentials", {**cookie(seat), **SCRIPT, **client(100)})
    gateway.get(f"/i/{seat.instructor_token}", client(100))
    gateway.get(f"/s/{seat.token[:-2]}", client(101))
    log = gateway.log_text()
    assert "/s/<redacted>" in log
    for secret in (seat.token, seat.token[:-2], seat.instructor_token, desktops.FULL_PASSWORD,
                   desktops.VIEW_PASSWORD):
        assert secret not in log


