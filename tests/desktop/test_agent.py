"""The session agent as the operator and gateway use it: health, activity, thumbnail."""

from __future__ import annotations

import io
import subprocess
import time
from typing import Any

from PIL import Image

from devcluster import desktops


def test_healthz_reports_the_display(desktop_session: Any) -> None:
    body = desktop_session.agent_json("/healthz")
    assert body["ok"] is True
    assert body["display"] == f":{desktop_session.display}"


def test_idle_time_grows_and_resets_after_input(desktop_session: Any) -> None:
    first = desktop_session.agent_json("/activity")["idle_ms"]
    time.sleep(1.5)
    second = desktop_session.agent_json("/activity")["idle_ms"]
    assert second >= first + 1000, (first, second)
    subprocess.run(["xdotool", "mousemove_relative", "--", "7", "5", "key", "shift"],
                   env=desktop_session.x_env(), check=True, timeout=10)
    after_input = desktop_session.agent_json("/activity")["idle_ms"]
    assert after_input < 1000, f"idle {after_input} ms right after synthetic input"


def test_activity_counts_connected_viewers(desktop_session: Any, page: Any) -> None:
    assert desktop_session.agent_json("/activity")["viewers"] == 0
    page.goto(desktop_session.url(desktops.VIEW_PASSWORD))
    desktops.wait_connected(page)
    assert desktop_session.agent_json("/activity")["viewers"] == 1
    page.goto("about:blank")
    deadline = time.monotonic() + 10
    while desktop_session.agent_json("/activity")["viewers"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert desktop_session.agent_json("/activity")["viewers"] == 0


def test_thumbnail_is_a_small_png_of_the_screen(desktop_session: Any) -> None:
    status, body = desktop_session.agent("/thumbnail.png")
    assert status == 200
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(body))
    image.load()  # decodes every row: a broken PNG fails here
    assert image.size == (320, 200)
    deadline = time.monotonic() + 20  # a session this young may not have drawn XFCE yet
    while desktops.desktop_problems(body) and time.monotonic() < deadline:
        time.sleep(0.2)
        body = desktop_session.agent("/thumbnail.png")[1]
    assert not desktops.desktop_problems(body)


def test_unknown_agent_path_is_404(desktop_session: Any) -> None:
    assert desktop_session.agent("/nope")[0] == 404
