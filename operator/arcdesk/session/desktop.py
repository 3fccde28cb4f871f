"""What the desktop runs and looks like: child command lines, XFCE defaults, wallpaper. Pure."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from arcdesk.session.config import App, SessionConfig

# TigerVNC names its single RandR output VNC-0; xfdesktop keys the wallpaper by output name,
# "monitor0"/"monitorscreen" are its fallbacks when RandR gives none.
MONITORS = ("monitorVNC-0", "monitor0", "monitorscreen")
WORKSPACES = 4
PANEL_HEIGHT = 30
# Autostart entries of Debian's XFCE that make no sense in a pod (a screen locker on a VNC
# session, accessibility bus start-up that only slows the first frame).
HIDDEN_AUTOSTART = ("xscreensaver.desktop", "at-spi-dbus-bus.desktop")


def xvnc_argv(config: SessionConfig, passwd_file: Path, xauthority: Path) -> list[str]:
    """Xvnc with VncAuth only, RFB on loopback only (websockify is the one way in)."""
    return [
        "Xvnc", config.display_name,
        "-rfbport", str(config.rfb_port),
        "-localhost", "-interface", "127.0.0.1",
        "-SecurityTypes", "VncAuth",
        # Every viewer arrives from 127.0.0.1 (websockify): Xvnc's per-host blacklist would lock
        # the trainee out after a few bad attempts; the gateway rate-limits failures instead.
        "-BlacklistThreshold", "1000000",
        "-PasswordFile", str(passwd_file),
        "-auth", str(xauthority),
        "-geometry", config.geometry,
        "-depth", "24",
        "-desktop", config.course_title,
        "-AlwaysShared",
        "-AcceptSetDesktopSize=0",
        "-nolisten", "tcp",
        "-s", "0", "-dpms",  # no blanking: thumbnails and instructors should see the screen
    ]


def xfce_argv() -> list[str]:
    """A private session bus that lives exactly as long as the XFCE session."""
    return ["dbus-run-session", "--", "xfce4-session"]


def websockify_argv(config: SessionConfig) -> list[str]:
    return [
        "websockify", "--web", str(config.novnc_dir),
        f"{config.bind}:{config.novnc_port}", f"127.0.0.1:{config.rfb_port}",
    ]


def _prop(name: str, kind: str, value: str | int | bool) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"<property name={quoteattr(name)} type={quoteattr(kind)} value={quoteattr(text)}/>"


def _channel(name: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<channel name={quoteattr(name)} version=\"1.0\">\n{body}\n</channel>\n"
    )


def desktop_channel(wallpaper: Path) -> str:
    """xfdesktop: our wallpaper on every monitor name and workspace, stretched."""
    workspace = (
        _prop("last-image", "string", str(wallpaper))
        + _prop("image-style", "int", 3)
        + _prop("color-style", "int", 0)
    )
    workspaces = "".join(
        f'<property name="workspace{n}" type="empty">{workspace}</property>'
        for n in range(WORKSPACES)
    )
    monitors = "".join(f'<property name="{m}" type="empty">{workspaces}</property>'
                       for m in MONITORS)
    return _channel(
        "xfce4-desktop",
        f'<property name="backdrop" type="empty"><property name="screen0" type="empty">'
        f"{monitors}</property></property>",
    )


def panel_channel(title: str) -> str:
    """One top panel whose menu button carries the course title; no first-start dialog."""
    plugins = [
        ("applicationsmenu", _prop("button-title", "string", title)
         + _prop("show-button-title", "bool", True)),
        ("tasklist", _prop("show-labels", "bool", True)),
        ("separator", _prop("expand", "bool", True) + _prop("style", "uint", 0)),
        ("clock", _prop("digital-format", "string", "%a %H:%M")),
    ]
    ids = "".join(f'<value type="int" value="{n}"/>' for n in range(1, len(plugins) + 1))
    entries = "".join(
        f'<property name="plugin-{n}" type="string" value="{kind}">{props}</property>'
        for n, (kind, props) in enumerate(plugins, start=1)
    )
    panel = (
        _prop("position", "string", "p=6;x=0;y=0")
        + _prop("length", "uint", 100)
        + _prop("position-locked", "bool", True)
        + _prop("size", "uint", PANEL_HEIGHT)
        + _prop("background-style", "uint", 1)
        # Light grey: the default GTK theme draws dark labels.
        + '<property name="background-rgba" type="array"><value type="double" value="0.92"/>'
        '<value type="double" value="0.92"/><value type="double" value="0.9"/>'
        '<value type="double" value="1"/></property>'
        + f'<property name="plugin-ids" type="array">{ids}</property>'
    )
    return _channel(
        "xfce4-panel",
        _prop("configver", "int", 2)
        + '<property name="panels" type="array"><value type="int" value="1"/>'
        f'<property name="panel-1" type="empty">{panel}</property></property>'
        f'<property name="plugins" type="empty">{entries}</property>',
    )


# The session's clients. One priority for all: xfce4-session then starts them together
# instead of group by group, which is most of the time to the first full frame.
SESSION_CLIENTS = (("xfwm4",), ("xfsettingsd",), ("xfce4-panel",), ("xfdesktop",))


def _failsafe_session() -> str:
    clients = "".join(
        f'<property name="Client{n}_Command" type="array">'
        + "".join(f'<value type="string" value="{arg}"/>' for arg in argv)
        + "</property>"
        + _prop(f"Client{n}_Priority", "int", 15)
        + _prop(f"Client{n}_PerScreen", "bool", False)
        for n, argv in enumerate(SESSION_CLIENTS)
    )
    return (
        '<property name="sessions" type="empty"><property name="Failsafe" type="empty">'
        + _prop("IsFailsafe", "bool", True)
        + _prop("Count", "int", len(SESSION_CLIENTS))
        + clients
        + "</property></property>"
    )


def session_channel() -> str:
    """No saved sessions (each start is the same desktop), no lock on a shared VNC screen."""
    return _channel(
        "xfce4-session",
        _failsafe_session()
        + '<property name="general" type="empty">'
        + _prop("FailsafeSessionName", "string", "Failsafe")
        + _prop("SaveOnExit", "bool", False)
        + _prop("AutoSave", "bool", False)
        + _prop("LockCommand", "string", "")
        + '</property><property name="shutdown" type="empty">'
        + _prop("LockScreen", "bool", False)
        # Agents nobody asked for: each costs start-up time and leaves sockets in the home.
        + '</property><property name="startup" type="empty">'
        + '<property name="ssh-agent" type="empty">' + _prop("enabled", "bool", False)
        + '</property><property name="gpg-agent" type="empty">' + _prop("enabled", "bool", False)
        + "</property></property>",
    )


def xfwm_channel() -> str:
    """Compositing only costs CPU on a software framebuffer."""
    return _channel(
        "xfwm4",
        '<property name="general" type="empty">'
        + _prop("use_compositing", "bool", False)
        + "</property>",
    )


def wallpaper_svg(title: str, subtitle: str, geometry: str) -> str:
    """The course title, large, on a calm gradient (gdk-pixbuf renders SVG via librsvg)."""
    width, height = (int(v) for v in geometry.split("x"))
    size = max(24, min(64, int(width * 1.6 / max(len(title), 12))))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        '<stop offset="0" stop-color="#1d4e89"/><stop offset="1" stop-color="#2a9d8f"/>'
        "</linearGradient></defs>"
        f'<rect width="{width}" height="{height}" fill="url(#g)"/>'
        f'<text x="{width // 2}" y="{height // 2}" font-family="DejaVu Sans" '
        f'font-size="{size}" font-weight="bold" fill="#ffffff" text-anchor="middle">'
        f"{escape(title)}</text>"
        f'<text x="{width // 2}" y="{height // 2 + size}" font-family="DejaVu Sans" '
        f'font-size="{size // 2}" fill="#e0f0ff" text-anchor="middle">{escape(subtitle)}</text>'
        "</svg>\n"
    )


def launcher_name(app: App) -> str:
    return "arcdesk-" + (re.sub(r"[^a-z0-9]+", "-", app.name.lower()).strip("-") or "app")


def launcher(app: App) -> str:
    """A freedesktop launcher: shows in the Applications menu and as a desktop icon."""
    return (
        "[Desktop Entry]\nType=Application\nVersion=1.0\n"
        f"Name={app.name}\nExec={app.exec}\nIcon={app.icon or 'application-x-executable'}\n"
        "Terminal=false\nCategories=Education;\n"
    )


def hidden_autostart() -> str:
    return "[Desktop Entry]\nType=Application\nName=disabled by arcdesk\nHidden=true\n"


def write_xdg_dirs(config: SessionConfig, rundir: Path, subtitle: str) -> tuple[Path, Path]:
    """System-level XFCE defaults and menu entries inside ``rundir``, never in the home.

    Returns (config_dir, data_dir) to put first on XDG_CONFIG_DIRS and XDG_DATA_DIRS; the
    trainee's own settings in ~/.config still win over these.
    """
    config_dir, data_dir = rundir / "xdg-config", rundir / "xdg-data"
    channels = config_dir / "xfce4" / "xfconf" / "xfce-perchannel-xml"
    channels.mkdir(parents=True, exist_ok=True)
    wallpaper = rundir / "wallpaper.svg"
    wallpaper.write_text(wallpaper_svg(config.course_title, subtitle, config.geometry))
    files = {
        "xfce4-desktop.xml": desktop_channel(wallpaper),
        "xfce4-panel.xml": panel_channel(config.course_title),
        "xfce4-session.xml": session_channel(),
        "xfwm4.xml": xfwm_channel(),
    }
    for name, text in files.items():
        (channels / name).write_text(text, encoding="utf-8")
    autostart = config_dir / "autostart"
    autostart.mkdir(exist_ok=True)
    for name in HIDDEN_AUTOSTART:
        (autostart / name).write_text(hidden_autostart())
    applications = data_dir / "applications"
    applications.mkdir(parents=True, exist_ok=True)
    for app in config.apps:
        (applications / f"{launcher_name(app)}.desktop").write_text(launcher(app))
    return config_dir, data_dir
