"""Options and course info of one desktop session: argv + environment -> SessionConfig. Pure."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from arcdesk.api import labels

ARC_PROFILES = frozenset({"arc", "bioimage"})
PROFILES = frozenset({"base", *ARC_PROFILES})


class ConfigError(ValueError):
    """The session cannot start with these options or this environment."""


@dataclass(frozen=True)
class Material:
    """One course material: a git repository cloned into ``~/materials/<name>``."""

    url: str
    ref: str
    name: str


@dataclass(frozen=True)
class App:
    """One profile app (``ARCDESK_APPS``): a menu entry and a desktop icon."""

    name: str
    exec: str
    icon: str


@dataclass(frozen=True)
class SessionConfig:
    secrets_dir: Path
    display: int
    novnc_port: int
    agent_port: int
    home: Path
    novnc_dir: Path
    bind: str
    skel_dir: Path
    arc_python: Path
    geometry: str
    run_dir: Path | None
    course: str
    course_title: str
    seat: str
    trainee: str
    profile: str
    materials: tuple[Material, ...]
    apps: tuple[App, ...]

    @property
    def display_name(self) -> str:
        return f":{self.display}"

    @property
    def rfb_port(self) -> int:
        return 5900 + self.display


def _display_number(text: str) -> int:
    match = re.fullmatch(r":?(\d{1,4})", text)
    if not match:
        raise argparse.ArgumentTypeError(f"display must look like ':1', got {text!r}")
    return int(match.group(1))


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arcdesk-session",
        description="Run one arcdesk desktop: Xvnc, XFCE, websockify/noVNC and the agent.",
    )
    parser.add_argument("--secrets-dir", type=Path, default=Path(labels.SECRETS_DIR))
    parser.add_argument("--display", type=_display_number, default=1)
    parser.add_argument("--novnc-port", type=_port, default=labels.NOVNC_PORT)
    parser.add_argument("--agent-port", type=_port, default=labels.AGENT_PORT)
    parser.add_argument("--home", type=Path, default=None, help="default: $HOME")
    parser.add_argument("--novnc-dir", type=Path, default=Path("/usr/share/novnc"))
    parser.add_argument("--bind", default="0.0.0.0", help="address of websockify and agent")
    parser.add_argument(
        "--skel-dir", type=Path, default=Path("/etc/arcdesk/skel"),
        help="files copied into a new home (never over existing ones)",
    )
    parser.add_argument(
        "--arc-python", type=Path, default=Path("/opt/arcdesk-venv/bin/python"),
        help="python of the venv with ARCtrl, used to scaffold the trainee's ARC",
    )
    parser.add_argument("--geometry", default="1280x800")
    parser.add_argument(
        "--run-dir", type=Path, default=None,
        help="password file, X authority and logs (default: a new directory in $TMPDIR)",
    )
    return parser


def material_name(url: str) -> str:
    """Directory name for a material: the repository's last path part, without ``.git``."""
    last = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    last = last.removesuffix(".git")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", last).strip(".-")
    return name or "material"


def _json_list(name: str, text: str) -> list[object]:
    if not text.strip():
        return []
    try:
        items = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{name} is not JSON: {err}") from err
    if not isinstance(items, list):
        raise ConfigError(f"{name} must be a JSON list")
    return items


def parse_materials(text: str) -> tuple[Material, ...]:
    """``ARCDESK_MATERIALS``: a JSON list of ``{"git": {"url", "ref", "directory"?}}``."""
    items = _json_list("ARCDESK_MATERIALS", text)
    materials: list[Material] = []
    seen: set[str] = set()
    for item in items:
        git = item.get("git") if isinstance(item, dict) else None
        if not isinstance(git, dict) or not isinstance(git.get("url"), str):
            raise ConfigError(f"material without git.url: {item!r}")
        url = git["url"]
        directory = git.get("directory")
        name = material_name(directory if isinstance(directory, str) and directory else url)
        while name in seen:  # two repos with the same basename get distinct folders
            name += "-2"
        seen.add(name)
        materials.append(Material(url=url, ref=str(git.get("ref") or "HEAD"), name=name))
    return tuple(materials)


def parse_apps(text: str) -> tuple[App, ...]:
    """``ARCDESK_APPS``: a JSON list of ``{"name", "exec", "icon"?}`` from the DesktopProfile."""
    apps: list[App] = []
    for item in _json_list("ARCDESK_APPS", text):
        if not isinstance(item, dict) or not item.get("name") or not item.get("exec"):
            raise ConfigError(f"app without name or exec: {item!r}")
        fields = [str(item.get(k) or "") for k in ("name", "exec", "icon")]
        if any("\n" in f or "\r" in f for f in fields):  # one line each in a .desktop file
            raise ConfigError(f"app fields must be single lines: {item!r}")
        apps.append(App(name=fields[0], exec=fields[1], icon=fields[2]))
    return tuple(apps)


def from_args(argv: Sequence[str], env: Mapping[str, str]) -> SessionConfig:
    """Parse ``argv`` and the course environment into a config; ConfigError if unusable."""
    ns = build_parser().parse_args(list(argv))
    home = ns.home or (Path(env["HOME"]) if env.get("HOME") else None)
    if home is None:
        raise ConfigError("no home directory: pass --home or set HOME")
    profile = env.get("ARCDESK_PROFILE", "base") or "base"
    if profile not in PROFILES:
        raise ConfigError(f"ARCDESK_PROFILE must be one of {sorted(PROFILES)}, got {profile!r}")
    if ns.novnc_port == ns.agent_port:
        raise ConfigError("--novnc-port and --agent-port must differ")
    if not re.fullmatch(r"\d{3,5}x\d{3,5}", ns.geometry):
        raise ConfigError(f"--geometry must look like 1280x800, got {ns.geometry!r}")
    return SessionConfig(
        secrets_dir=ns.secrets_dir,
        display=ns.display,
        novnc_port=ns.novnc_port,
        agent_port=ns.agent_port,
        home=home,
        novnc_dir=ns.novnc_dir,
        bind=ns.bind,
        skel_dir=ns.skel_dir,
        arc_python=ns.arc_python,
        geometry=ns.geometry,
        run_dir=ns.run_dir,
        course=env.get("ARCDESK_COURSE", "").strip() or "course",
        course_title=env.get("ARCDESK_COURSE_TITLE", "").strip() or "arcdesk",
        seat=env.get("ARCDESK_SEAT", "").strip(),
        trainee=env.get("ARCDESK_TRAINEE", "").strip(),
        profile=profile,
        materials=parse_materials(env.get("ARCDESK_MATERIALS", "")),
        apps=parse_apps(env.get("ARCDESK_APPS", "")),
    )


def runtime_env(
    config: SessionConfig,
    rundir: Path,
    xauthority: Path,
    xdg_dirs: tuple[Path, Path],
    base: Mapping[str, str],
) -> dict[str, str]:
    """Environment of every child: display, auth and XDG dirs inside writable paths only."""
    env = {k: v for k, v in base.items() if not k.startswith(("XDG_", "DBUS_"))}
    # The profile's venv (napari, ARCtrl, the ImageJ and CellProfiler launchers) comes first
    # so launchers can say just ``napari``; its share/ holds their icons.
    path = [str(config.arc_python.parent), env.get("PATH", "/usr/local/bin:/usr/bin:/bin")]
    venv_share = config.arc_python.parent.parent / "share"
    env.update(
        HOME=str(config.home),
        PATH=":".join(path),
        DISPLAY=config.display_name,
        XAUTHORITY=str(xauthority),
        XDG_RUNTIME_DIR=str(rundir / "xdg-runtime"),
        XDG_CONFIG_HOME=str(config.home / ".config"),
        XDG_CACHE_HOME=str(config.home / ".cache"),
        XDG_DATA_HOME=str(config.home / ".local" / "share"),
        XDG_CONFIG_DIRS=f"{xdg_dirs[0]}:/etc/xdg",
        XDG_DATA_DIRS=f"{xdg_dirs[1]}:{venv_share}:/usr/local/share:/usr/share",
        XDG_CURRENT_DESKTOP="XFCE",
        XDG_SESSION_TYPE="x11",
        NO_AT_BRIDGE="1",  # no accessibility bus: it only delays the first frame here
        ARCDESK_COURSE_TITLE=config.course_title,
        ARCDESK_PROFILE=config.profile,
    )
    return env
