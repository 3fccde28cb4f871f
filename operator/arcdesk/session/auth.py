"""VNC password file and X authority cookie for one session."""

from __future__ import annotations

import os
import secrets
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from arcdesk.api import labels

# VncAuth is DES-based: TigerVNC and noVNC use only the first 8 characters.
VNC_PASSWORD_MAX = 8
VNC_PASSWORD_MIN = 6


class SecretError(ValueError):
    """The mounted secrets cannot make a safe VNC password file."""


@dataclass(frozen=True)
class Passwords:
    full: str
    view: str


def _check(name: str, value: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise SecretError(f"{name}: password must be a single line")
    if len(value) < VNC_PASSWORD_MIN:
        raise SecretError(f"{name}: password shorter than {VNC_PASSWORD_MIN} characters")
    return value


def read_passwords(secrets_dir: Path) -> Passwords:
    """Read both passwords from the mounted Secret (one file per key; one trailing newline ok)."""
    values: dict[str, str] = {}
    for key in (labels.VNC_PASSWORD_KEY, labels.VIEW_PASSWORD_KEY):
        path = secrets_dir / key
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError as err:
            raise SecretError(f"missing secret file {path}") from err
        values[key] = _check(key, raw.removesuffix("\n"))
    full, view = values[labels.VNC_PASSWORD_KEY], values[labels.VIEW_PASSWORD_KEY]
    if full[:VNC_PASSWORD_MAX] == view[:VNC_PASSWORD_MAX]:
        raise SecretError("view-only password must differ from the full password")
    return Passwords(full=full, view=view)


def vncpasswd_input(passwords: Passwords) -> bytes:
    """stdin for ``vncpasswd -f``: full password, then the view-only one (TigerVNC's order)."""
    return f"{passwords.full}\n{passwords.view}\n".encode()


def write_passwd_file(passwords: Passwords, path: Path, vncpasswd: str = "vncpasswd") -> None:
    """Obfuscate both passwords with TigerVNC's own ``vncpasswd -f`` into ``path`` (mode 0600)."""
    result = subprocess.run(
        [vncpasswd, "-f"], input=vncpasswd_input(passwords), capture_output=True, check=False
    )
    if result.returncode != 0 or len(result.stdout) != 16:
        stderr = result.stderr.decode(errors="replace")
        raise SecretError(f"vncpasswd -f failed (exit {result.returncode}): {stderr}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(result.stdout)


FAMILY_WILD = 0xFFFF


def xauthority_entry(cookie: bytes, display: int) -> bytes:
    """One Xauthority record: MIT-MAGIC-COOKIE-1 for ``display`` on any address."""

    def field(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    return (
        struct.pack(">H", FAMILY_WILD)
        + field(b"")
        + field(str(display).encode())
        + field(b"MIT-MAGIC-COOKIE-1")
        + field(cookie)
    )


def write_xauthority(path: Path, display: int) -> None:
    """A fresh random cookie that Xvnc (``-auth``) and every X client (XAUTHORITY) share."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(xauthority_entry(secrets.token_bytes(16), display))
