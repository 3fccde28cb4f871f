"""The gateway's client for the Kubernetes API: list, watch and one merge-patch, over aiohttp.

Why aiohttp directly (and not kubernetes_asyncio, or the sync client in threads): the
gateway already runs on aiohttp, a watch is one streaming GET of JSON lines, and cancelling
a coroutine closes its connection cleanly, where a watch blocked in a thread cannot be
interrupted. Credentials come from the official client's own loaders (kubeconfig with
certificates, tokens or exec plugins; in-cluster service account with token refresh), so
authentication behaves exactly like the operator's and kubectl's.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

LIST_PAGE = 500
WATCH_SECONDS = 290  # the server ends each watch; we resume from the last resourceVersion


class Gone(Exception):
    """The resourceVersion is too old (HTTP 410): relist."""


class ApiError(Exception):
    """The API server refused a request or sent a watch ERROR event."""


@dataclass(frozen=True)
class Resource:
    """A watchable collection, e.g. ``Resource("apis/arcdesk.dev/v1alpha1", "seats")``."""

    kind: str
    group_version: str
    plural: str
    selector: str = ""

    def path(self, namespace: str | None) -> str:
        scope = f"/namespaces/{namespace}" if namespace else ""
        return f"/{self.group_version}{scope}/{self.plural}"


def load_configuration(kubeconfig: Path | None) -> Any:
    """A kubernetes.client.Configuration from ``kubeconfig``, or in-cluster when None."""
    configuration = k8s_client.Configuration()
    if kubeconfig is None:
        k8s_config.load_incluster_config(  # type: ignore[no-untyped-call]
            client_configuration=configuration)
    else:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig), client_configuration=configuration)
    return configuration


def _ssl_context(configuration: Any) -> ssl.SSLContext | bool:
    if not str(configuration.host).startswith("https"):
        return False
    if not configuration.verify_ssl:
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    return context


class ApiServer:
    """List, watch and patch through one aiohttp session; ``close()`` when done."""

    def __init__(self, configuration: Any) -> None:
        self._configuration = configuration
        self.host = str(configuration.host).rstrip("/")
        self._ssl = _ssl_context(configuration)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl, limit=16)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=None))
        return self._session

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        token = self._configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            headers["Authorization"] = token  # loaders store it with its "Bearer " prefix
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def list(self, resource: Resource, namespace: str | None,
                   ) -> tuple[list[dict[str, Any]], str]:
        """All objects (paged) and the list's resourceVersion to watch from."""
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            query = {"limit": str(LIST_PAGE), "labelSelector": resource.selector,
                     "continue": token}
            body = await self._get_json(resource.path(namespace), query)
            items += body.get("items") or []
            token = (body.get("metadata") or {}).get("continue") or ""
            if not token:
                return items, str(body["metadata"]["resourceVersion"])

    async def _get_json(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        url = f"{self.host}{path}?{urlencode({k: v for k, v in query.items() if v})}"
        timeout = aiohttp.ClientTimeout(total=60)
        async with self._client().get(url, headers=self._headers(), timeout=timeout) as response:
            if response.status == 410:
                raise Gone(path)
            if response.status != 200:
                raise ApiError(f"GET {path}: HTTP {response.status}: {await _reason(response)}")
            result: dict[str, Any] = await response.json()
            return result

    async def watch(self, resource: Resource, namespace: str | None, resource_version: str,
                    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Yield (type, object) events from ``resource_version`` until the server ends the
        watch; BOOKMARK events are yielded too (they only carry a new resourceVersion)."""
        query = {"watch": "1", "allowWatchBookmarks": "true", "labelSelector": resource.selector,
                 "resourceVersion": resource_version, "timeoutSeconds": str(WATCH_SECONDS)}
        url = f"{resource.path(namespace)}?{urlencode({k: v for k, v in query.items() if v})}"
        timeout = aiohttp.ClientTimeout(total=WATCH_SECONDS + 30, sock_read=WATCH_SECONDS + 30)
        async with self._client().get(f"{self.host}{url}", headers=self._headers(),
                                      timeout=timeout) as response:
            if response.status == 410:
                raise Gone(url)
            if response.status != 200:
                raise ApiError(f"watch {resource.kind}: HTTP {response.status}: "
                               f"{await _reason(response)}")
            async for line in _lines(response.content):
                event = json.loads(line)
                kind, obj = str(event.get("type")), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone(url)
                    raise ApiError(f"watch {resource.kind}: {obj.get('message', obj)}")
                yield kind, obj

    async def merge_patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Apply a JSON merge patch; returns the object as the API server stored it."""
        headers = self._headers("application/merge-patch+json")
        async with self._client().patch(f"{self.host}{path}", data=json.dumps(patch),
                                        headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=30)) as response:
            if response.status != 200:
                raise ApiError(f"PATCH {path}: HTTP {response.status}: {await _reason(response)}")
            result: dict[str, Any] = await response.json()
            return result


async def _lines(stream: aiohttp.StreamReader) -> AsyncIterator[bytes]:
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


async def _reason(response: aiohttp.ClientResponse) -> str:
    """The API server's Status message (never the request, which may carry a token)."""
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return response.reason or ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""
