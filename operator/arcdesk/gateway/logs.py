"""Logging without secrets: tokens live in link paths and cookies, so both are scrubbed.

The access log records a redacted path only (never the query string, cookies or headers);
:class:`RedactingFilter` additionally scrubs token-shaped text from every record of the
loggers the gateway and aiohttp use, in case an error message quotes a URL.
"""

from __future__ import annotations

import logging
import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

REDACTED = "<redacted>"
# Personal-link paths, and whole runs of 32+ URL-safe characters in mixed case (random
# tokens; object names are lowercase, so they stay readable).
_LINK = re.compile(r"/(s|i)/[^/?#\s\"']*")
_TOKENISH = re.compile(r"(?<![\w-])(?=[\w-]*[A-Z])(?=[\w-]*[a-z])[\w-]{32,}(?![\w-])")
GATEWAY_LOGGERS = ("arcdesk.gateway", "aiohttp.access", "aiohttp.server", "aiohttp.web",
                   "aiohttp.client", "aiohttp.websocket", "aiohttp.internal")

log = logging.getLogger("arcdesk.gateway")


def redact(text: str) -> str:
    """``text`` with personal-link tokens and token-shaped strings replaced."""
    return _TOKENISH.sub(REDACTED, _LINK.sub(lambda m: f"/{m.group(1)}/{REDACTED}", text))


def redact_path(path: str) -> str:
    """A request path fit for the log: no query string, no link token."""
    return redact(path.split("?", 1)[0])


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message (and drops its args) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_redaction() -> None:
    """Attach the filter to every logger the gateway process writes through (idempotent)."""
    for name in GATEWAY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


class AccessLogger(AbstractAccessLogger):
    """One line per request: client, method, redacted path, status, size, duration."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s %s %.1fms", request.remote, request.method,
                         redact_path(request.path), response.status,
                         response.body_length, time * 1000)
