"""Access tokens: shape check and keyed digests, so the index never holds a token itself.

The index maps HMAC-SHA256(process key, token) to what the token opens. A dict lookup by
digest leaks at most timing about a digest the caller cannot choose, and the stored digest
is then compared with :func:`hmac.compare_digest`, so checking a token is constant-time in
everything an attacker controls.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# credentials.new_token() makes 43 URL-safe characters; accept what a re-issue tool may make.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


def well_formed(token: str) -> bool:
    """True for strings that can be a token; anything else is refused before any lookup."""
    return bool(_TOKEN.fullmatch(token))


class Digester:
    """Keyed digests of tokens; the key is random per process unless given (tests)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def digest(self, token: str) -> bytes:
        return hmac.new(self._key, token.encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "Digester(<key redacted>)"


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def csrf_token(session_token: str, action: str) -> str:
    """A per-session form token: only someone holding the (HttpOnly) session token can make it."""
    mac = hmac.new(session_token.encode(), f"arcdesk-csrf:{action}".encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_valid(session_token: str, action: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token, action).encode(), presented.encode())
