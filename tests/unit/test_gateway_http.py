"""The gateway over HTTP: personal links, cookies, seat isolation, CSRF, instructor page."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from typer.testing import CliRunner

from arcdesk.api.credentials import new_token
from arcdesk.cli.main import app as arcdesk_cli
from arcdesk.gateway import index as idx
from arcdesk.gateway.app import create_metrics_app
from arcdesk.gateway.server import ServeOptions, running
from arcdesk.gateway.state import GatewayConfig
from devcluster.kit import free_port
from tests.unit.gateway_helpers import (
    RecordingStarter,
    assert_forbidden,
    enter,
    gateway_with,
    load,
    make_course,
    new_gateway,
    origin,
    run_with,
    scrape,
)

pytestmark = pytest.mark.unit
SCRIPT = {"X-Arcdesk-Request": "1"}
Client = TestClient[Any, Any]


def test_personal_link_sets_a_strict_httponly_cookie_scoped_to_the_seat() -> None:
    course = make_course()

    async def scenario(client: Client) -> None:
        response = await enter(client, course.seats[0].token)
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        assert f"Path={course.seat_base(0)};" in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback: the local demo
        assert f'url={course.seat_base(0)}"' in await response.text()
        assert response.headers["Referrer-Policy"] == "same-origin"
        page = await client.get(course.seat_base(0))
        html = await page.text()
        assert page.status == 200 and "Course bio" in html and "seat-001" in html
        assert f'href="{course.seat_base(0)}desktop"' in html

    run_with(gateway_with(course), scenario)


def test_cookie_is_secure_when_the_gateway_is_reached_by_name() -> None:
    course = make_course()

    async def scenario(client: Client) -> None:
        response = await client.get(f"/s/{course.seats[0].token}",
                                    headers={"Host": "desk.example.org"})
        assert response.status == 200
        assert "Secure" in response.headers["Set-Cookie"]

    run_with(gateway_with(course), scenario)


def test_plain_http_gateway_sets_cookies_a_browser_keeps_on_an_http_page() -> None:
    course = make_course()
    gw = new_gateway(GatewayConfig(plain_http=True))
    load(gw.index, course)

    async def scenario(client: Client) -> None:
        response = await client.get(f"/s/{course.seats[0].token}",
                                    headers={"Host": "10.85.0.1:30080"})
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie

    run_with(gw, scenario)


def test_seat_a_token_never_opens_seat_b() -> None:
    course = make_course()
    a_token = course.seats[0].token

    async def scenario(client: Client) -> None:
        for suffix in ("", "desktop", "credentials", "websockify"):
            response = await client.get(course.seat_base(1) + suffix, headers=SCRIPT,
                                        cookies={"arcdesk_seat": a_token})
            await assert_forbidden(response)
        response = await client.post(course.seat_base(1) + "start", data={"csrf": "x"},
                                     cookies={"arcdesk_seat": a_token},
                                     headers={"Origin": origin(client)})
        await assert_forbidden(response)

    run_with(gateway_with(course), scenario)


def test_unknown_malformed_and_revoked_tokens_get_the_same_bare_403() -> None:
    course = make_course()
    gw = gateway_with(course)

    async def scenario(client: Client) -> None:
        for token in (new_token(), "short", "x" * 200, course.instructor_token):
            await assert_forbidden(await enter(client, token))
        gw.index.apply(idx.SECRET, idx.DELETED, course.seats[0].secret)
        await assert_forbidden(await enter(client, course.seats[0].token))
        await assert_forbidden(await client.get(course.seat_base(0)))  # no cookie at all
        await assert_forbidden(await client.get("/seat/Bad_NS/x/"))

    run_with(gw, scenario)


def test_vnc_password_only_reaches_our_script_never_a_page_or_url() -> None:
    course = make_course()
    seat = course.seats[0]

    async def scenario(client: Client) -> None:
        await enter(client, seat.token)
        for path in (course.seat_base(0), course.seat_base(0) + "desktop"):
            html = await (await client.get(path)).text()
            assert seat.vnc_password not in html and seat.view_password not in html
        await assert_forbidden(await client.get(course.seat_base(0) + "credentials"))
        cross_site = {**SCRIPT, "Sec-Fetch-Site": "cross-site"}
        await assert_forbidden(await client.get(course.seat_base(0) + "credentials",
                                                headers=cross_site))
        response = await client.get(course.seat_base(0) + "credentials", headers=SCRIPT)
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert await response.json() == {"password": seat.vnc_password}

    run_with(gateway_with(course), scenario)


def test_idle_stopped_desktop_is_started_by_a_csrf_checked_post() -> None:
    course = make_course(phase="Stopped")
    course.seats[0].seat["status"]["idleStopped"] = True
    gw = gateway_with(course)

    async def scenario(client: Client) -> None:
        await enter(client, course.seats[0].token)
        html = await (await client.get(course.seat_base(0))).text()
        assert 'data-state="startable"' in html
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        assert match
        url = course.seat_base(0) + "start"
        good = {"Origin": origin(client)}
        for data, headers in (({"csrf": "0" * 64}, good), ({}, good),
                              ({"csrf": match.group(1)}, {"Origin": "http://evil.example"}),
                              ({"csrf": match.group(1)}, {"Origin": "null",
                                                          "Sec-Fetch-Site": "cross-site"}),
                              ({"csrf": match.group(1)}, {})):
            await assert_forbidden(await client.post(url, data=data, headers=headers))
        assert gw.starter.started == []
        response = await client.post(url, data={"csrf": match.group(1)}, headers=good,
                                     allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == course.seat_base(0)
        assert gw.starter.started == [course.seats[0].key]

    run_with(gw, scenario)


def test_suspended_course_is_explained_and_cannot_be_started_from_the_page() -> None:
    course = make_course(phase="Stopped")
    course.seats[0].seat["spec"]["state"] = "Stopped"
    gw = gateway_with(course)

    async def scenario(client: Client) -> None:
        await enter(client, course.seats[0].token)
        html = await (await client.get(course.seat_base(0))).text()
        assert "not running right now" in html and 'name="csrf"' not in html
        csrf = re.search(r"[0-9a-f]{64}", html)
        assert csrf is None

    run_with(gw, scenario)
    assert isinstance(gw.starter, RecordingStarter) and gw.starter.started == []


def test_instructor_page_lists_seats_with_view_links_and_no_control_by_default() -> None:
    course = make_course(seats=3)

    async def scenario(client: Client) -> None:
        response = await enter(client, course.instructor_token, "i")
        assert response.status == 200
        assert f"Path={course.course_base()};" in response.headers["Set-Cookie"]
        html = await (await client.get(course.course_base())).text()
        for seat in course.seats:
            assert f'href="{course.course_base()}seats/{seat.key.name}/view"' in html
            assert f'data-src="{course.course_base()}seats/{seat.key.name}/thumbnail.png"' in html
        assert "/control" not in html
        assert 'http-equiv="refresh"' not in html, "a page reload would blank the thumbnails"
        status = await (await client.get(course.course_base() + "status.json")).json()
        assert status == {"seats": [{"seat": seat.seat["spec"]["id"], "phase": "Running"}
                                    for seat in course.seats]}
        seat_path = f"{course.course_base()}seats/{course.seats[0].key.name}/"
        view = await client.get(seat_path + "view/credentials", headers=SCRIPT)
        assert await view.json() == {"password": course.seats[0].view_password}
        await assert_forbidden(await client.get(seat_path + "control"))
        await assert_forbidden(await client.get(seat_path + "control/credentials",
                                                headers=SCRIPT))

    run_with(gateway_with(course), scenario)


def test_instructor_control_only_where_the_course_allows_it() -> None:
    course = make_course(control=True)

    async def scenario(client: Client) -> None:
        await enter(client, course.instructor_token, "i")
        html = await (await client.get(course.course_base())).text()
        assert "/control" in html
        seat_path = f"{course.course_base()}seats/{course.seats[1].key.name}/"
        control = await client.get(seat_path + "control/credentials", headers=SCRIPT)
        assert await control.json() == {"password": course.seats[1].vnc_password}

    run_with(gateway_with(course), scenario)


def test_instructor_token_opens_only_its_own_course() -> None:
    mine, other = make_course(name="mine"), make_course(name="other")

    async def scenario(client: Client) -> None:
        cookie = {"arcdesk_course": mine.instructor_token}
        await assert_forbidden(await client.get(other.course_base(), cookies=cookie))
        foreign = f"{mine.course_base()}seats/{other.seats[0].key.name}/view"
        await assert_forbidden(await client.get(foreign, cookies=cookie))
        await assert_forbidden(await enter(client, mine.seats[0].token, "i"))

    run_with(gateway_with(mine, other), scenario)


def test_healthz_and_metrics_count_auth_failures() -> None:
    course = make_course()
    gw = gateway_with(course)

    async def scenario(client: Client) -> None:
        health = await client.get("/healthz")
        assert health.status == 200 and await health.text() == "ok\n"  # and nothing else
        await enter(client, new_token())
        await enter(client, new_token())
        text = await scrape(gw)
        assert "arcdesk_gateway_auth_failures_total 2.0" in text
        assert 'arcdesk_gateway_active_connections{role="trainee"} 0.0' in text
        assert 'arcdesk_gateway_proxied_bytes_total{direction="to_browser"} 0.0' in text

    run_with(gw, scenario)


def test_public_app_has_no_metrics_and_the_metrics_app_nothing_else() -> None:
    gw = gateway_with(make_course())

    async def scenario(client: Client) -> None:
        assert (await client.get("/metrics")).status == 404
        assert (await client.get("/healthz")).status == 200  # the readiness probe's
        async with TestClient(TestServer(create_metrics_app(gw), host="127.0.0.1")) as scraper:
            metrics = await scraper.get("/metrics")
            assert metrics.status == 200 and metrics.content_type == "text/plain"
            assert "arcdesk_gateway_indexed_objects" in await metrics.text()
            assert await (await scraper.get("/healthz")).text() == "ok\n"
            assert (await scraper.get("/s/x")).status == 404

    run_with(gw, scenario)


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def test_server_serves_metrics_on_its_own_listener_only(tmp_path: Path) -> None:
    """The real listeners; the API server refuses, so the index never syncs."""
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    options = ServeOptions(port=0, metrics_host="127.0.0.1", metrics_port=free_port(),
                           namespace="training", kubeconfig=tmp_path / "kubeconfig")

    async def status(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
        async with http.get(url) as response:
            return response.status, await response.text()

    async def main() -> None:
        async with running(options) as serving, aiohttp.ClientSession() as http:
            public = f"http://127.0.0.1:{serving.port}"
            assert serving.port != serving.metrics_port == options.metrics_port
            assert (await status(http, f"{public}/metrics"))[0] == 404
            assert (await status(http, f"{public}/healthz"))[0] == 503
            code, text = await status(http, f"http://127.0.0.1:{serving.metrics_port}/metrics")
            assert code == 200 and "arcdesk_gateway_watch_restarts" in text

    asyncio.run(main())


def test_metrics_port_zero_opens_no_metrics_listener(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    options = ServeOptions(port=0, metrics_port=0, namespace="training",
                           kubeconfig=tmp_path / "kubeconfig")

    async def main() -> None:
        async with running(options) as serving:
            assert serving.metrics_port == 0 and serving.port > 0

    asyncio.run(main())


def test_gateway_run_refuses_metrics_on_the_public_port() -> None:
    result = CliRunner().invoke(arcdesk_cli, ["gateway", "run", "-n", "training",
                                              "--port", "9090"])
    assert result.exit_code == 2, result.output
    assert "--metrics-port must differ from --port" in result.output


def test_novnc_and_our_scripts_are_served() -> None:
    async def scenario(client: Client) -> None:
        rfb = await client.get("/novnc/core/rfb.js")
        assert rfb.status == 200 and "export default class RFB" in await rfb.text()
        script = await client.get("/static/desktop.js")
        assert 'import RFB from "/novnc/core/rfb.js"' in await script.text()
        assert (await client.get("/novnc/../../etc/passwd")).status in (403, 404)

    run_with(gateway_with(), scenario)
