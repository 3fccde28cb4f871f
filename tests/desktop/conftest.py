"""Desktop tier fixtures: a real arcdesk-session (Xvnc, XFCE, websockify, agent) on this
machine and real headless Chromium driven by Playwright.

Reusable by later tiers (the gateway): ``desktop_session`` is one running bioimage desktop
per module with the passwords ``desktops.FULL_PASSWORD`` / ``desktops.VIEW_PASSWORD``, noVNC
on ``desktop_session.novnc_port`` and the agent on ``desktop_session.agent_port``;
``browser`` is a Chromium context; ``page`` a fresh tab in it.

`make test-desktop` installs the prerequisites (`make desktop-deps`) first; run alone on a
machine without them, every test fails with a message naming what is missing (never skips).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster import desktops, kit


@pytest.fixture(scope="session", autouse=True)
def desktop_prerequisites() -> None:
    missing = desktops.missing_prerequisites()
    if missing:
        pytest.fail(
            "desktop tier needs (run `make desktop-deps`): " + "; ".join(missing),
            pytrace=False,
        )


@pytest.fixture(scope="module")
def desktop_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[desktops.DesktopSession]:
    """A running bioimage desktop with known passwords and ports, stopped after the module."""
    with desktops.running_session(tmp_path_factory.mktemp("desktop")) as session:
        yield session


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with kit.chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture
def app_process(desktop_session: Any) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # the whole group: `imagej` is a script that starts java
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
