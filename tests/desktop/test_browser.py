"""What a trainee and an instructor see in the browser: noVNC on the session's websockify."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.desktop import harness


def test_full_password_shows_the_xfce_desktop(desktop_session: Any, page: Any) -> None:
    page.goto(desktop_session.url(harness.FULL_PASSWORD))
    harness.wait_connected(page)
    problems = harness.desktop_problems_after(page)
    assert not problems, f"browser canvas is not the desktop: {problems}"
    width, height = page.evaluate(
        "() => { const c = document.querySelector('#noVNC_container canvas');"
        " return [c.width, c.height]; }"
    )
    assert (width, height) == harness.GEOMETRY


def test_wrong_password_is_refused(desktop_session: Any, page: Any) -> None:
    page.goto(desktop_session.url("not-the-password"))
    status = page.locator("#noVNC_status")
    status.wait_for(state="visible", timeout=20000)
    page.wait_for_function(
        "() => document.querySelector('#noVNC_status').textContent.includes('rejected')",
        timeout=20000,
    )
    assert "Authentication failure" in status.inner_text()
    assert not page.evaluate(
        "() => document.documentElement.classList.contains('noVNC_connected')"
    )


@pytest.fixture
def key_probe(desktop_session: Any) -> Iterator[tuple[subprocess.Popen[str], dict[str, int]]]:
    """An ``xev`` window on the desktop that prints every key press it receives, focused."""
    env = desktop_session.x_env()
    probe = subprocess.Popen(
        ["stdbuf", "-oL", "xev", "-name", "keyprobe", "-geometry", "300x200+400+300",
         "-event", "keyboard"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        window = ""
        deadline = time.monotonic() + 15
        while not window and time.monotonic() < deadline:
            found = subprocess.run(["xdotool", "search", "--name", "keyprobe"], env=env,
                                   capture_output=True, text=True, check=False)
            window = found.stdout.split()[0] if found.stdout.split() else ""
            time.sleep(0.1)
        assert window, "xev window did not appear"
        subprocess.run(["xdotool", "windowactivate", "--sync", window], env=env, check=True,
                       timeout=10)
        geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window], env=env,
                                  capture_output=True, text=True, check=True).stdout
        where = {k: int(v) for k, v in (line.split("=") for line in geometry.split())
                 if k in ("X", "Y", "WIDTH", "HEIGHT")}
        yield probe, where
    finally:
        probe.kill()
        probe.wait()


def _type_into_probe(page: Any, where: dict[str, int]) -> None:
    canvas = page.locator("#noVNC_container canvas")
    canvas.click(position={"x": where["X"] + where["WIDTH"] // 2,
                           "y": where["Y"] + where["HEIGHT"] // 2})
    page.keyboard.type("arc")


def _key_presses(probe: subprocess.Popen[str], settle: float = 2.0) -> int:
    time.sleep(settle)  # give the keys time to travel browser -> websockify -> Xvnc -> xev
    probe.kill()
    out, _ = probe.communicate()
    return out.count("KeyPress event")


def test_full_password_keyboard_reaches_the_desktop(
    desktop_session: Any, page: Any, key_probe: Any
) -> None:
    """The control for the view-only test: the same typing with the full password arrives."""
    probe, where = key_probe
    page.goto(desktop_session.url(harness.FULL_PASSWORD))
    harness.wait_connected(page)
    _type_into_probe(page, where)
    assert _key_presses(probe) >= 3


def test_view_only_password_sees_the_screen_but_keys_do_not_arrive(
    desktop_session: Any, page: Any, key_probe: Any
) -> None:
    probe, where = key_probe
    page.goto(desktop_session.url(harness.VIEW_PASSWORD))
    harness.wait_connected(page)
    problems = harness.desktop_problems_after(page)
    assert not problems, f"view-only canvas is not the desktop: {problems}"
    idle_before = desktop_session.agent_json("/activity")["idle_ms"]
    _type_into_probe(page, where)
    assert _key_presses(probe) == 0
    idle_after = desktop_session.agent_json("/activity")["idle_ms"]
    assert idle_after > idle_before, "view-only input must not count as trainee activity"
