"""The HTTP side of the API client: one aiohttp session per client, made lazily inside the
running loop; credentials re-read per request; a bound on requests in flight; every
failure as ApiError (no answer: status 0, with the cause in a few words)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp

from arcdesk.kube.connection import Connection
from arcdesk.kube.errors import NO_ANSWER, ApiError, Call, unreachable
from arcdesk.kube.kinds import NODE

Body = dict[str, Any]
RequestHook = Callable[[str, int, float], None]  # verb, HTTP status (0: no answer), seconds


class Http:
    """JSON requests and line streams to one API server; ``close()`` when done."""

    def __init__(self, connection: Connection, max_concurrency: int, timeout: float,
                 on_request: RequestHook | None) -> None:
        self.connection = connection
        self.timeout = timeout
        self._max = max_concurrency
        self._limit = asyncio.Semaphore(max_concurrency)
        self._on_request = on_request
        self._session: aiohttp.ClientSession | None = None

    @property
    def server(self) -> str:
        return self.connection.server

    def _client(self) -> aiohttp.ClientSession:
        """Made on first use, inside the running loop, as aiohttp wants."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self.connection.ssl_context,
                                             limit=self._max + 8)  # room for watches
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _headers(self, content_type: str) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        authorization = self.connection.authorization()
        if authorization:
            headers["Authorization"] = authorization  # the loaders keep its "Bearer " prefix
        return headers

    async def request(self, method: str, url_path: str, call: Call, body: Any = None,
                      params: Mapping[str, str] | None = None,
                      content_type: str = "application/json") -> Body:
        """One request; the decoded answer, or ApiError with the line to show."""
        data = None if body is None else json.dumps(body)
        started, status = time.monotonic(), NO_ANSWER
        try:
            async with self._limit, self._client().request(
                    method, self.server + url_path, data=data, params=params,
                    headers=self._headers(content_type),
                    timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                status = response.status
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise no_answer(self.server, error) from None
        finally:
            if self._on_request is not None:
                self._on_request(method, status, time.monotonic() - started)
        if status >= 400:
            raise ApiError.from_answer(call, status, text)
        answer = json.loads(text) if text else {}
        return answer if isinstance(answer, dict) else {}

    async def lines(self, url_path: str, call: Call, params: Mapping[str, str],
                    seconds: int, inactivity: float) -> AsyncIterator[bytes]:
        """The lines of a streamed answer (a watch), for at most ``seconds`` + 30, and no
        longer than ``inactivity`` seconds without a byte."""
        timeout = aiohttp.ClientTimeout(total=seconds + 30, sock_read=inactivity)
        try:
            async with self._client().get(
                    self.server + url_path, params=params,
                    headers=self._headers("application/json"), timeout=timeout) as response:
                if response.status >= 400:
                    raise ApiError.from_answer(call, response.status, await response.text())
                async for line in json_lines(response.content):
                    yield line
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise no_answer(self.server, error) from None

    async def text(self, url_path: str) -> str:
        """A plain-text endpoint such as ``/metrics``."""
        try:
            async with self._client().get(self.server + url_path,
                                          headers=self._headers("text/plain"),
                                          timeout=aiohttp.ClientTimeout(total=60)) as response:
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise no_answer(self.server, error) from None
        if response.status >= 400:
            raise ApiError.from_answer(Call("get", NODE, None, url_path),
                                       response.status, body)
        return body


async def json_lines(stream: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """Newline-delimited chunks of a stream of any line length (objects can be large)."""
    pending = b""
    async for chunk in stream.iter_any():
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
    if pending.strip():
        yield pending


def no_answer(server: str, error: BaseException) -> ApiError:
    """ApiError for a request that got no HTTP answer, with the cause in a few words."""
    why = _why(error)
    return ApiError(NO_ANSWER, type(error).__name__, why, unreachable(server, why))


def _why(error: BaseException) -> str:
    cause = getattr(error, "os_error", None) or error
    text = str(cause)
    if isinstance(error, aiohttp.ClientConnectorCertificateError) or \
            isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY" in text:
        return "its TLS certificate is not trusted by the kubeconfig's CA"
    if isinstance(cause, ConnectionRefusedError) or "refused" in text.lower():
        return "connection refused"
    if isinstance(error, TimeoutError) or "timed out" in text.lower():
        return "timed out"
    if isinstance(cause, socket.gaierror) or "Name or service not known" in text:
        return "host name not found"
    return type(cause).__name__
