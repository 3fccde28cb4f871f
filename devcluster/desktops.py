"""Start a real arcdesk-session on this machine and look at it through real headless Chromium.

Shared by the desktop tests (tests/desktop/conftest.py) and the cold-start benchmark (bench/);
a gateway test can start a session the same way and point its proxy at ``novnc_port``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devcluster.kit import CHROMIUM, free_port, listening

FULL_PASSWORD = "trainee-pw-1"
VIEW_PASSWORD = "watcher-pw-2"
COURSE = "bio-101"
COURSE_TITLE = "Bioimage data in ARCs"
TRAINEE = "Alice A."
GEOMETRY = (1280, 800)
BIOIMAGE_APPS = [
    {"name": "Terminal", "exec": "xfce4-terminal", "icon": "utilities-terminal"},
    {"name": "napari", "exec": "napari", "icon": "applications-graphics"},
    {"name": "ImageJ", "exec": "imagej", "icon": "imagej"},
    {"name": "CellProfiler", "exec": "cellprofiler", "icon": "cellprofiler"},
]
REQUIRED_COMMANDS = (
    "Xvnc", "vncpasswd", "websockify", "xfce4-session", "dbus-run-session", "xprintidle",
    "xwd", "xdotool", "xev", "wmctrl", "git", "git-lfs", "java",
)
# Launchers `make desktop-deps` writes into the profile venv (as the image has them).
VENV_COMMANDS = ("python", "napari", "imagej", "showinf", "bfconvert", "cellprofiler")
SESSION_MARK = "ARCDESK_SESSION_ID"
REPO = Path(__file__).resolve().parents[1]


def desktop_venv() -> Path:
    """The profile venv `make desktop-deps` builds (the image's /opt/arcdesk-venv)."""
    default = Path.home() / ".cache" / "arcdesk" / "desktop-venv"
    return Path(os.environ.get("ARCDESK_DESKTOP_VENV", default))


def missing_prerequisites() -> list[str]:
    """What this machine lacks for the desktop tier, each named so the fix is obvious."""
    missing = [f"command {c}" for c in REQUIRED_COMMANDS if shutil.which(c) is None]
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if not Path("/usr/share/novnc/vnc.html").exists():
        missing.append("/usr/share/novnc (Debian package novnc)")
    venv = desktop_venv()
    missing += [f"{venv}/bin/{c}" for c in VENV_COMMANDS if not (venv / "bin" / c).exists()]
    for module in ("arctrl", "napari", "skimage", "bioio", "ome_zarr"):
        if not list((venv / "lib").glob(f"python3*/site-packages/{module}")):
            missing.append(f"python package {module} in {venv}")
    for sample in ("cell.tif", "ihc.ome.tif", "nuclei/counts.csv", "count-nuclei.cppipe"):
        if not (venv / "share" / "arcdesk-data" / sample).exists():
            missing.append(f"sample data {venv}/share/arcdesk-data/{sample}")
    return missing


_reserved: dict[int, int] = {}  # display -> fd holding its reservation lock


def free_display() -> int:
    """A display number with no X server, lock file or RFB listener, reserved with a file
    lock until ``release_display``: other test processes (a gateway tier running at the same
    time) skip it even before its Xvnc has created the X lock file."""
    for number in range(40, 100):
        paths = (Path(f"/tmp/.X{number}-lock"), Path(f"/tmp/.X11-unix/X{number}"))
        if number in _reserved or any(p.exists() for p in paths) or listening(5900 + number):
            continue
        fd = os.open(f"/tmp/.arcdesk-test-display-{number}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _reserved[number] = fd
        return number
    raise RuntimeError("no free X display between :40 and :99")


def release_display(number: int) -> None:
    fd = _reserved.pop(number, None)
    if fd is not None:
        os.close(fd)  # closing drops the flock


def marked_processes(display: int) -> list[int]:
    """Live processes of the session on ``display`` (the runtime marks all of them)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state = stat.rsplit(")", 1)[1].split()[0]
        marked = any(v.startswith(SESSION_MARK.encode() + b"=") for v in environ)
        if marked and f"DISPLAY=:{display}".encode() in environ and state != "Z":
            found.append(int(entry))
    return found


@dataclass
class DesktopSession:
    """A running ``arcdesk-session`` subprocess with known passwords, ports and home."""

    process: subprocess.Popen[bytes]
    display: int
    novnc_port: int
    agent_port: int
    home: Path
    run_dir: Path
    output: Path
    env: dict[str, str] = field(default_factory=dict)

    def x_env(self) -> dict[str, str]:
        """Environment for an X client on this session's display."""
        return {**os.environ, "DISPLAY": f":{self.display}", "HOME": str(self.home),
                "XAUTHORITY": str(self.run_dir / "Xauthority")}

    def desktop_env(self) -> dict[str, str]:
        """The environment the desktop itself gives to what a trainee starts from it (read
        off the running xfce4-session), so a test launches apps exactly as an icon does."""
        for pid in marked_processes(self.display):
            if Path(f"/proc/{pid}/comm").read_text().strip() == "xfce4-session":
                raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                pairs = (item.decode().split("=", 1) for item in raw if b"=" in item)
                return {key: value for key, value in pairs}
        raise AssertionError(f"no xfce4-session on :{self.display}:\n{self.log_tail()}")

    def url(self, password: str, page: str = "vnc.html") -> str:
        query = f"autoconnect=true&reconnect=false&resize=off&password={password}"
        return f"http://127.0.0.1:{self.novnc_port}/{page}?{query}"

    def agent(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.agent_port}{path}", timeout=10
            ) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def agent_json(self, path: str) -> dict[str, Any]:
        status, body = self.agent(path)
        assert status == 200, f"{path}: HTTP {status} {body[:200]!r}"
        return dict(json.loads(body))

    def log_tail(self, lines: int = 30) -> str:
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the agent says healthy and noVNC listens; fail with the runtime's output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"arcdesk-session exited {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, ValueError):
                if listening(self.novnc_port) and json.loads(self.agent("/healthz")[1])["ok"]:
                    return
            time.sleep(0.05)
        raise AssertionError(f"session not ready in {timeout}s:\n{self.log_tail()}")

    def wait_seeded(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            state = str(self.agent_json("/healthz")["seeding"])
            if state in ("done", "failed"):
                return state
            time.sleep(0.1)
        raise AssertionError(f"seeding still {state} after {timeout}s")

    def stop(self, timeout: float = 10.0) -> float:
        """SIGTERM; seconds until the runtime exited."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        elapsed = time.monotonic() - started
        release_display(self.display)
        return elapsed


def write_secrets(directory: Path, full: str = FULL_PASSWORD, view: str = VIEW_PASSWORD) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vnc-password").write_text(full + "\n")
    (directory / "view-password").write_text(view + "\n")
    return directory


def start_session(
    base: Path,
    *,
    profile: str = "bioimage",
    home: Path | None = None,
    materials: Sequence[dict[str, Any]] = (),
    title: str = COURSE_TITLE,
    extra_args: Sequence[str] = (),
    as_uid: int | None = None,
) -> DesktopSession:
    """Start the runtime as a subprocess on a free display and free loopback ports.

    ``as_uid``: run it unprivileged, as the image does (uid 1000): Debian's python3 runs the
    stdlib-only runtime from the source tree; ``base`` is handed to that user.
    """
    base.mkdir(parents=True, exist_ok=True)
    home = home or base / "home"
    home.mkdir(parents=True, exist_ok=True)
    display, novnc, agent = free_display(), free_port(), free_port()
    run_dir, output = base / f"run-{display}", base / f"session-{display}.log"
    env = {
        **os.environ,
        "ARCDESK_COURSE": COURSE, "ARCDESK_COURSE_TITLE": title, "ARCDESK_SEAT": "alice",
        "ARCDESK_TRAINEE": TRAINEE, "ARCDESK_PROFILE": profile,
        "ARCDESK_MATERIALS": json.dumps(list(materials)),
        "ARCDESK_APPS": json.dumps(BIOIMAGE_APPS),
    }
    python = [sys.executable]
    secrets_dir = write_secrets(base / "secrets")
    if as_uid is not None:
        python = ["setpriv", f"--reuid={as_uid}", f"--regid={as_uid}", "--clear-groups",
                  "/usr/bin/python3"]
        env.update(PYTHONPATH=str(REPO / "operator"), HOME=str(home))
        for path in [base, *base.rglob("*")]:
            os.chown(path, as_uid, as_uid)
    argv = [
        *python, "-m", "arcdesk.session.main",
        "--secrets-dir", str(secrets_dir),
        "--display", f":{display}", "--novnc-port", str(novnc), "--agent-port", str(agent),
        "--home", str(home), "--bind", "127.0.0.1", "--run-dir", str(run_dir),
        "--arc-python", str(desktop_venv() / "bin" / "python"),
        "--geometry", f"{GEOMETRY[0]}x{GEOMETRY[1]}", *extra_args,
    ]
    with output.open("ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    return DesktopSession(process, display, novnc, agent, home, run_dir, output, env)


@contextlib.contextmanager
def running_session(base: Path, **options: Any) -> Iterator[DesktopSession]:
    session = start_session(base, **options)
    try:
        session.wait_ready()
        yield session
    finally:
        session.stop()


NOVNC_CANVAS = "#noVNC_container canvas"  # noVNC's own page
GATEWAY_SCREEN = "#screen canvas"  # the gateway's desktop page


def canvas_png(page: Any, selector: str = NOVNC_CANVAS) -> bytes:
    """The canvas at ``selector`` exactly as the browser drew it, as PNG bytes. Only a
    canvas: an <img> that is reloading has no picture to read (the gateway's pages draw
    thumbnails onto canvases for that reason)."""
    data_url = page.evaluate(
        "(sel) => { const el = document.querySelector(sel);"
        " if (!(el instanceof HTMLCanvasElement)) throw new Error(`no canvas at ${sel}`);"
        " return el.toDataURL('image/png'); }",
        selector)
    return base64.b64decode(str(data_url).split(",", 1)[1])


def wait_connected(page: Any, timeout_ms: float = 20000) -> None:
    """Until noVNC's own page says connected; on timeout, fail with what the page showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "() => document.documentElement.classList.contains('noVNC_connected')",
            timeout=timeout_ms,
        )
    except PlaywrightTimeout as error:
        shown = page.evaluate(
            "() => [document.documentElement.className,"
            " document.getElementById('noVNC_status')?.textContent ?? '']")
        raise AssertionError(f"noVNC not connected after {timeout_ms / 1000:.0f} s; "
                             f"page classes and status: {shown}") from error


def wait_thumbnails_drawn(page: Any, timeout_ms: float = 20000) -> None:
    """Until every thumbnail on the instructor page holds a picture of its desktop."""
    page.wait_for_function("() => [...document.querySelectorAll('canvas.thumb')]"
                           ".every(c => Number(c.dataset.drawn) > 0)", timeout=timeout_ms)


def connect_from_landing(page: Any, timeout_ms: float = 30000) -> None:
    """From a seat's landing page to its desktop page, as a trainee gets there: Connect is
    clicked when offered; a page that waited for a starting desktop opens it by itself."""
    page.wait_for_function(
        "() => location.pathname.endsWith('/desktop') || document.getElementById('connect')",
        timeout=timeout_ms)
    if not page.url.split("?")[0].endswith("/desktop"):
        page.click("#connect")


def wait_gateway_connected(page: Any, timeout_ms: float = 20000) -> None:
    """The gateway's desktop page says so once its VNC connection is up."""
    page.wait_for_function("() => document.body.dataset.state === 'connected'",
                           timeout=timeout_ms)


def desktop_problems_after(page: Any, timeout: float = 20.0,
                           selector: str = NOVNC_CANVAS) -> list[str]:
    """Poll the canvas until it shows the desktop; the problems of the last frame otherwise.
    Right after connecting, the canvas may still be waiting for the first full update."""
    deadline = time.monotonic() + timeout
    problems = desktop_problems(canvas_png(page, selector))
    while problems and time.monotonic() < deadline:
        time.sleep(0.2)
        problems = desktop_problems(canvas_png(page, selector))
    return problems


def _pixels(img: Any) -> list[tuple[int, int, int]]:
    raw = img.tobytes()  # RGB, row by row
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def desktop_problems(png: bytes) -> list[str]:
    """Why ``png`` does not look like our XFCE desktop (empty list: it does).

    A user notices three things: the light panel across the top, the course wallpaper (blue
    to teal gradient, white title text) and that it is a picture rather than one flat colour.
    """
    from PIL import Image  # dev dependency; imported here so the session code never needs it

    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    problems = []
    panel = img.crop((w // 4, 2, w * 3 // 4, max(3, h * 3 // 100))).resize((64, 4))
    panel_mean = sum(sum(p) / 3 for p in _pixels(panel)) / (64 * 4)
    if panel_mean < 180:
        problems.append(f"no light panel at the top (mean brightness {panel_mean:.0f})")
    body = img.crop((w // 5, h // 8, w * 4 // 5, h * 7 // 8)).resize((64, 64))
    r, g, b = (sum(p[i] for p in _pixels(body)) / 4096 for i in range(3))
    if not (b > r + 30 and g > r + 20):
        problems.append(f"no blue/teal wallpaper (mean rgb {r:.0f},{g:.0f},{b:.0f})")
    band = img.crop((w // 6, h * 45 // 100, w * 5 // 6, h * 57 // 100))
    white = sum(1 for p in _pixels(band) if min(p) > 225)
    if white < band.size[0] * band.size[1] // 100:
        problems.append(f"no title text in the middle ({white} white pixels)")
    colours = len(set(_pixels(img.resize((w // 4, h // 4)))))
    if colours < 200:
        problems.append(f"only {colours} distinct colours")
    return problems
