"""What a trainee and an instructor see in the browser: noVNC on the session's websockify."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster import desktops


def test_full_password_shows_the_xfce_desktop(desktop_session: Any, page: Any) -> None:
    page.goto(desktop_session.url(desktops.FULL_PASSWORD))
    desktops.wait_connected(page)
    problems = desktops.desktop_problems_after(page)
    assert not problems, f"browser canvas is not the desktop: {problems}"
    width, height = page.evaluate(
        "() => { const c = document.querySelector('#noVNC_container canvas');"
        " return [c.width, c.height]; }"
    )
    assert (width, height) == desktops.GEOMETRY


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


class KeyProbe:
    """An ``xev`` window on the desktop, focused, recording the keys it receives."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process = subprocess.Popen(
            ["stdbuf", "-oL", "xev", "-name", "keyprobe", "-geometry", "300x200+400+300",
             "-event", "keyboard"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.keys: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.window = self._find_window()
        subprocess.run(["xdotool", "windowactivate", "--sync", self.window], env=env,
                       check=True, timeout=10)
        geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", self.window],
                                  env=env, capture_output=True, text=True, check=True).stdout
        self.where = {k: int(v) for k, v in (line.split("=") for line in geometry.split())
                      if k in ("X", "Y", "WIDTH", "HEIGHT")}

    def _read(self) -> None:
        assert self.process.stdout is not None
        pressed = False
        for line in self.process.stdout:
            if line.startswith("KeyPress event"):
                pressed = True
            match = KEYSYM.search(line)
            if pressed and match:
                self.keys.append(match.group(1))
                pressed = False

    def _find_window(self) -> str:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = subprocess.run(["xdotool", "search", "--name", "keyprobe"], env=self.env,
                                   capture_output=True, text=True, check=False).stdout.split()
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError("xev window did not appear")

    def wait_for(self, key: str, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while key not in self.keys and time.monotonic() < deadline:
            time.sleep(0.05)
        return key in self.keys

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


KEYSYM = re.compile(r"keysym 0x[0-9a-f]+, (\w+)\)")


@pytest.fixture
def key_probe(desktop_session: Any) -> Iterator[KeyProbe]:
    probe = KeyProbe(desktop_session.x_env())
    try:
        yield probe
    finally:
        probe.close()


def _type_into_probe(page: Any, probe: KeyProbe) -> None:
    where = probe.where
    canvas = page.locator("#noVNC_container canvas")
    canvas.click(position={"x": where["X"] + where["WIDTH"] // 2,
                           "y": where["Y"] + where["HEIGHT"] // 2})
    page.keyboard.type("arc")


def test_full_password_keyboard_reaches_the_desktop(
    desktop_session: Any, page: Any, key_probe: KeyProbe
) -> None:
    """The control for the view-only test: the same typing with the full password arrives."""
    page.goto(desktop_session.url(desktops.FULL_PASSWORD))
    desktops.wait_connected(page)
    _type_into_probe(page, key_probe)
    assert key_probe.wait_for("c"), f"keys seen: {key_probe.keys}"
    assert key_probe.keys[:3] == ["a", "r", "c"]


def test_view_only_password_sees_the_screen_but_keys_do_not_arrive(
    desktop_session: Any, page: Any, key_probe: KeyProbe
) -> None:
    page.goto(desktop_session.url(desktops.VIEW_PASSWORD))
    desktops.wait_connected(page)
    problems = desktops.desktop_problems_after(page)
    assert not problems, f"view-only canvas is not the desktop: {problems}"
    idle_before = desktop_session.agent_json("/activity")["idle_ms"]
    _type_into_probe(page, key_probe)
    time.sleep(2)
    idle_after = desktop_session.agent_json("/activity")["idle_ms"]
    # A marker sent to the probe after the typing: once it is seen, anything Xvnc had
    # accepted from the browser before it would have been seen too.
    subprocess.run(["xdotool", "key", "--window", key_probe.window, "z"],
                   env=desktop_session.x_env(), check=True, timeout=10)
    assert key_probe.wait_for("z"), "the probe window stopped receiving keys"
    assert key_probe.keys == ["z"], f"view-only keys reached the desktop: {key_probe.keys}"
    assert idle_after > idle_before, "view-only input must not count as trainee activity"
