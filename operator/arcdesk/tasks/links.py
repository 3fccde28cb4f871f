"""Pure: the gateway links the CLI hands out, in the shapes the gateway serves.

Trainee ``<gateway>/s/<token>``, instructor ``<gateway>/i/<token>``, and the view-only page
of one seat ``<gateway>/course/<namespace>/<course>/seats/<seat object>/view`` (opened in a
browser that has been through the instructor link).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit

GATEWAY_ENV = "ARCDESK_GATEWAY_URL"


class GatewayUrlError(ValueError):
    """No usable gateway URL; the message says how to give one."""


def gateway_url(given: str | None, environ: Mapping[str, str]) -> str:
    """The gateway's base URL from --gateway-url, else $ARCDESK_GATEWAY_URL, without '/' at
    the end."""
    url = given or environ.get(GATEWAY_ENV, "")
    if not url:
        raise GatewayUrlError(f"links need the gateway's address: pass --gateway-url URL or set "
                              f"{GATEWAY_ENV} (e.g. https://desktops.example.org)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise GatewayUrlError(f"--gateway-url {url!r} is not an http(s) URL like "
                              "https://desktops.example.org")
    return url.rstrip("/")


def trainee_link(gateway: str, token: str) -> str:
    return f"{gateway}/s/{quote(token, safe='')}"


def instructor_link(gateway: str, token: str) -> str:
    return f"{gateway}/i/{quote(token, safe='')}"


def view_link(gateway: str, namespace: str, course: str, seat_object: str) -> str:
    return f"{gateway}/course/{namespace}/{course}/seats/{seat_object}/view"
