"""Seat and instructor credentials, drawn from the OS CSPRNG.

TigerVNC's VncAuth uses only the first 8 characters of a password, so VNC passwords are
8 characters; the trainee token is what guards the door (the gateway) and is long.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from arcdesk.api import labels

_VNC_ALPHABET = string.ascii_letters + string.digits
VNC_PASSWORD_LENGTH = 8
TOKEN_BYTES = 32


@dataclass(frozen=True)
class SeatCredentials:
    vnc_password: str
    view_password: str
    token: str

    def as_secret_data(self) -> dict[str, str]:
        """The Secret's stringData."""
        return {
            labels.VNC_PASSWORD_KEY: self.vnc_password,
            labels.VIEW_PASSWORD_KEY: self.view_password,
            labels.TOKEN_KEY: self.token,
        }

    def __repr__(self) -> str:  # never let a traceback or log line print the values
        return "SeatCredentials(<redacted>)"


REDACTED = SeatCredentials("<redacted>", "<redacted>", "<redacted>")


def _vnc_password() -> str:
    return "".join(secrets.choice(_VNC_ALPHABET) for _ in range(VNC_PASSWORD_LENGTH))


def new_token() -> str:
    """A URL-safe random token (256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_seat_credentials() -> SeatCredentials:
    """Fresh credentials; view and full passwords always differ."""
    vnc = _vnc_password()
    view = _vnc_password()
    while view == vnc:
        view = _vnc_password()
    return SeatCredentials(vnc, view, new_token())
