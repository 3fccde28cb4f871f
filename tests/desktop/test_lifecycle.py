"""How the runtime ends: cleanly on SIGTERM, non-zero when a child dies, at once on bad
secrets; in every case no process of the session is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from arcdesk.api import labels
from devcluster import desktops, kit

STOP_LIMIT = 5.0
UNPRIVILEGED = labels.DESKTOP_UID  # the image's trainee uid


def wait_gone(display: int, timeout: float = 2.0) -> list[int]:
    deadline = time.monotonic() + timeout
    left = desktops.marked_processes(display)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = desktops.marked_processes(display)
    return left


def test_sigterm_stops_everything_within_five_seconds(tmp_path: Path) -> None:
    with desktops.running_session(tmp_path) as session:
        running = desktops.marked_processes(session.display)
        assert len(running) >= 5, "Xvnc, websockify, dbus, xfce4-session and its clients"
        # A program the trainee started from the desktop, detached into its own session: it
        # inherits the session's environment, as everything started inside the desktop does.
        environ = Path(f"/proc/{running[0]}/environ").read_bytes().split(b"\0")
        mark = next(v for v in environ if v.startswith(desktops.SESSION_MARK.encode() + b"="))
        env = {**session.x_env(), desktops.SESSION_MARK: mark.decode().split("=", 1)[1]}
        detached = subprocess.Popen(["setsid", "sleep", "300"], env=env)
        elapsed = session.stop()
        assert session.process.returncode == 0
        assert elapsed < STOP_LIMIT, f"stopped in {elapsed:.1f}s"
        left = desktops.marked_processes(session.display)
        detached.wait(1)  # reaps it here; it must already have been killed by the runtime
        assert not left, f"left running: {left}"
        assert not kit.listening(session.novnc_port)
        assert not kit.listening(session.agent_port)
        assert not Path(f"/tmp/.X{session.display}-lock").exists()


def test_a_dying_child_ends_the_runtime_non_zero(tmp_path: Path) -> None:
    with desktops.running_session(tmp_path) as session:
        xvnc = next(pid for pid in desktops.marked_processes(session.display)
                    if Path(f"/proc/{pid}/comm").read_text().strip() == "Xvnc")
        os.kill(xvnc, signal.SIGKILL)
        try:
            code = session.process.wait(STOP_LIMIT + 2)
        except subprocess.TimeoutExpired:
            code = None
        assert code not in (None, 0), f"runtime exit status {code} after Xvnc died"
        assert "xvnc exited" in session.output.read_text()
        assert not wait_gone(session.display)


def test_missing_secrets_fail_fast_with_a_message(tmp_path: Path) -> None:
    session = desktops.start_session(tmp_path, extra_args=["--secrets-dir", str(tmp_path / "no")])
    code = session.process.wait(10)
    session.stop()  # releases the display reservation
    assert code == 2
    assert "missing secret file" in session.output.read_text()


def test_runs_unprivileged_like_the_image(tmp_path: Path) -> None:
    """uid 1000 as in the pod (runAsNonRoot): the desktop still comes up and is drawn."""
    base = Path(tempfile.mkdtemp(prefix="arcdesk-uid1000-", dir="/tmp"))  # not under 0700 dirs
    try:
        with desktops.running_session(base, profile="base", as_uid=UNPRIVILEGED) as session:
            uids = {Path(f"/proc/{pid}").stat().st_uid
                    for pid in desktops.marked_processes(session.display)}
            assert uids == {UNPRIVILEGED}
            deadline = time.monotonic() + 20
            body = session.agent("/thumbnail.png")[1]
            while desktops.desktop_problems(body) and time.monotonic() < deadline:
                time.sleep(0.2)
                body = session.agent("/thumbnail.png")[1]
            assert not desktops.desktop_problems(body)
    finally:
        shutil.rmtree(base, ignore_errors=True)
