"""Through the gateway in real Chromium: a trainee link to the drawn desktop, reconnecting
after a gateway restart and past an attempt nobody answers, the instructor page with live
thumbnails and a view-only look, and waking an idle-stopped desktop."""

from __future__ import annotations

import io
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image, ImageStat

from arcdesk.api import labels
from devcluster import desktops, kit

if TYPE_CHECKING:
    from tests.desktop.gateway_fixtures import Gateway, Seat

pytest_plugins = ["tests.desktop.gateway_fixtures"]  # gateway, seats and the cluster fixtures


def wait_desktop_drawn(page: Any) -> None:
    problems = desktops.desktop_problems_after(page, 20, desktops.GATEWAY_SCREEN)
    assert not problems, f"the canvas behind the gateway is not the desktop: {problems}"


def test_trainee_link_leads_to_the_drawn_desktop(gateway: Gateway, seats: list[Seat],
                                                 page: Any) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    page.goto(f"{gateway.url}/s/{seats[0].token}")
    page.wait_for_url(f"{gateway.url}{seats[0].base}")
    assert page.locator("h1").inner_text() == desktops.COURSE_TITLE
    assert seats[0].seat_id in page.locator(".seat").inner_text()
    page.click("#connect")
    desktops.wait_gateway_connected(page)
    wait_desktop_drawn(page)
    assert page.evaluate("() => document.querySelector('#screen canvas').width") == \
        desktops.GEOMETRY[0]
    assert not any(desktops.FULL_PASSWORD in url for url in requested)
    assert any(url.endswith("/websockify") for url in requested)


def connect_then_stop_the_gateway(gateway: Gateway, seat: Seat, page: Any) -> None:
    """The seat's desktop open in ``page``, then the gateway stopped: the page reconnecting."""
    page.goto(f"{gateway.url}/s/{seat.token}")
    page.click("#connect")
    desktops.wait_gateway_connected(page)
    gateway.stop()
    page.wait_for_function("() => document.body.dataset.state === 'reconnecting'",
                           timeout=10000)


def test_an_open_desktop_reconnects_by_itself_after_the_gateway_restarts(
        gateway: Gateway, seats: list[Seat], page: Any) -> None:
    """A gateway rollout drops every WebSocket; the trainee's page comes back on its own."""
    connect_then_stop_the_gateway(gateway, seats[0], page)
    gateway.start()
    desktops.wait_gateway_connected(page, timeout_ms=30000)
    wait_desktop_drawn(page)
    assert page.locator("#screen canvas").count() == 1


def test_a_reconnect_attempt_nobody_answers_is_abandoned_and_tried_again(
        gateway: Gateway, seats: list[Seat], page: Any) -> None:
    """A frozen gateway (SIGSTOP: the kernel accepts the connection, nobody answers) stands
    for a path that died with an old pod during a rollout: the page gives the attempt up
    after desktop.js's ATTEMPT_TIMEOUT_MS (15 s), and connects once the gateway answers."""
    connect_then_stop_the_gateway(gateway, seats[0], page)
    gateway.start()
    assert gateway.process is not None
    os.kill(gateway.process.pid, signal.SIGSTOP)
    try:
        page.wait_for_event("requestfailed", predicate=lambda request: request.url.endswith(
            "/credentials") and request.failure == "net::ERR_ABORTED", timeout=35000)
        assert page.evaluate("document.body.dataset.state") == "reconnecting"
    finally:
        os.kill(gateway.process.pid, signal.SIGCONT)
    desktops.wait_gateway_connected(page, timeout_ms=30000)
    wait_desktop_drawn(page)


def _thumbnail(page: Any, gateway: Gateway, seat: Seat) -> Image.Image:
    response = page.request.get(
        f"{gateway.url}{seat.course_base}seats/{seat.name}/thumbnail.png")
    assert response.status == 200
    image = Image.open(io.BytesIO(response.body()))
    image.load()
    return image.convert("RGB")


def _shown_thumbnail(page: Any) -> Image.Image:
    """The first seat's thumbnail as the instructor's page shows it."""
    png = desktops.canvas_png(page, "li.seat-card canvas.thumb")
    return Image.open(io.BytesIO(png)).convert("RGB")


@pytest.fixture
def white_window(desktop_session: desktops.DesktopSession) -> Iterator[None]:
    """A big white window on the trainee's desktop (xev draws a plain white window)."""
    probe = subprocess.Popen(["xev", "-name", "whiteout", "-geometry", "1100x650+90+80"],
                             env=desktop_session.x_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        probe.kill()
        probe.wait()


def _centre_brightness(image: Image.Image) -> float:
    w, h = image.size
    return float(sum(ImageStat.Stat(image.crop((w // 4, h // 4, w * 3 // 4, h * 3 // 4))).mean))


def test_instructor_page_shows_live_thumbnails_and_a_view_only_look(
        gateway: Gateway, seats: list[Seat], page: Any,
        desktop_session: desktops.DesktopSession, request: pytest.FixtureRequest) -> None:
    page.goto(f"{gateway.url}/i/{seats[0].instructor_token}")
    page.wait_for_url(f"{gateway.url}{seats[0].course_base}")
    cards = page.locator("li.seat-card")
    assert cards.count() == 2 and page.locator("a.control").count() == 0
    desktops.wait_thumbnails_drawn(page)
    before = _thumbnail(page, gateway, seats[0])
    assert not desktops.desktop_problems(_png(before))
    request.getfixturevalue("white_window")
    kit.wait_for("a whiter thumbnail once a white window is open", lambda: (
        _centre_brightness(_thumbnail(page, gateway, seats[0])) >
        _centre_brightness(before) + 150), timeout=20, interval=1)
    kit.wait_for("the page's thumbnail to redraw with the white window", lambda: (
        _centre_brightness(_shown_thumbnail(page)) > _centre_brightness(before) + 150),
        timeout=15, interval=0.5)
    cards.first.locator("a.view").click()
    desktops.wait_gateway_connected(page)
    assert page.locator("#screen").get_attribute("data-view-only") == "true"
    assert "view only" in page.locator("header").inner_text()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_idle_stopped_desktop_is_woken_from_the_landing_page(
        gateway: Gateway, seats: list[Seat], page: Any,
        kubectl: kit.Kubectl) -> None:
    seat = seats[1]
    seat.set_status(kubectl, {"phase": "Stopped", "idleStopped": True})
    page.goto(f"{gateway.url}/s/{seat.token}")
    page.wait_for_url(f"{gateway.url}{seat.base}")
    page.wait_for_function("() => document.body.dataset.state === 'startable'", timeout=10000)
    assert "stopped after being idle" in page.locator("#status").inner_text()
    page.click("#start")
    page.wait_for_function("() => document.body.dataset.state === 'starting'", timeout=10000)
    annotations = kubectl.get_json("-n", seat.namespace, "seat", seat.name)["metadata"].get(
        "annotations") or {}
    assert labels.START_REQUESTED in annotations
    # The operator's part, played here: the desktop runs again.
    seat.set_status(kubectl, {"phase": "Running", "idleStopped": False})
    # The page was waiting for this desktop: it opens it by itself, no reload, no click.
    page.wait_for_url(f"{gateway.url}{seat.base}desktop", timeout=10000)
    desktops.wait_gateway_connected(page)
