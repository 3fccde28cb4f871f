"""The only module that calls the Kubernetes API server.

An asyncio client (aiohttp, which kopf already brings) for the few verbs the operator
needs, with a bound on concurrent requests. Credentials come from the in-cluster service
account or the kubeconfig, loaded by the `kubernetes` package as kopf's login does.

Objects are created with POST, never with server-side apply: apply would quietly adopt
an object someone else made with the same name. Our fields of existing objects are
then (re)asserted with server-side apply, always as ``labels.FIELD_MANAGER``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from kubernetes import client, config

from arcdesk import labels

logger = logging.getLogger(__name__)
Body = dict[str, Any]
RequestHook = Callable[[str, int, float], None]  # verb, HTTP status (0: no answer), seconds


@dataclass(frozen=True)
class Resource:
    prefix: str  # api/v1 or apis/<group>/<version>
    plural: str
    namespaced: bool = True


_OURS = f"apis/{labels.API_VERSION}"
RESOURCES = {
    "Pod": Resource("api/v1", "pods"),
    "Service": Resource("api/v1", "services"),
    "Secret": Resource("api/v1", "secrets"),
    "PersistentVolumeClaim": Resource("api/v1", "persistentvolumeclaims"),
    "Event": Resource("api/v1", "events"),
    "NetworkPolicy": Resource("apis/networking.k8s.io/v1", "networkpolicies"),
    "Course": Resource(_OURS, "courses"),
    "Seat": Resource(_OURS, "seats"),
    "DesktopProfile": Resource(_OURS, "desktopprofiles", namespaced=False),
}


class ApiError(Exception):
    """An error answer of the API server: its HTTP status, reason and message only
    (never the request body, which may hold credentials)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message

    @property
    def transient(self) -> bool:
        """Overload or an internal error: worth retrying, not worth reporting."""
        return self.status >= 500 or self.status == 429

    @property
    def quota_exceeded(self) -> bool:
        return self.status == 403 and "exceeded quota" in self.message


@dataclass(frozen=True)
class Credentials:
    server: str
    ssl_context: ssl.SSLContext
    authorization: Callable[[], str | None]  # re-read per request: tokens rotate


def load_credentials(kubeconfig: str | None = None) -> Credentials:
    """In-cluster service account, else the kubeconfig (``KUBECONFIG`` or ~/.kube/config)."""
    cfg = client.Configuration()
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
    else:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=cfg)
    context = ssl.create_default_context(cafile=cfg.ssl_ca_cert)
    if cfg.cert_file and cfg.key_file:
        context.load_cert_chain(cfg.cert_file, cfg.key_file)
    if not cfg.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return Credentials(cfg.host.rstrip("/"), context,
                       lambda: cfg.get_api_key_with_prefix("BearerToken", alias="authorization"))


def path(kind: str, namespace: str | None, name: str | None = None,
         subresource: str | None = None) -> str:
    res = RESOURCES[kind]
    parts = [res.prefix]
    if res.namespaced and namespace:
        parts += ["namespaces", namespace]
    parts.append(res.plural)
    if name:
        parts.append(name)
    if subresource:
        parts.append(subresource)
    return "/" + "/".join(parts)


class Kube:
    """API verbs the operator uses; at most ``max_concurrency`` requests in flight."""

    def __init__(self, credentials: Credentials, max_concurrency: int = 20,
                 on_request: RequestHook | None = None, timeout: float = 30.0) -> None:
        self._credentials = credentials
        self._limit = asyncio.Semaphore(max_concurrency)
        self._on_request = on_request
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=credentials.ssl_context, limit=max_concurrency),
            timeout=aiohttp.ClientTimeout(total=timeout))
        self.instance = socket.gethostname()

    async def close(self) -> None:
        await self._session.close()

    async def _request(self, method: str, url_path: str, body: Any = None,
                       params: Mapping[str, str] | None = None,
                       content_type: str = "application/json") -> Body | None:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        authorization = self._credentials.authorization()
        if authorization:
            headers["Authorization"] = authorization
        data = None if body is None else json.dumps(body)
        started, status = time.monotonic(), 0
        try:
            async with self._limit, self._session.request(
                    method, self._credentials.server + url_path, data=data,
                    params=params, headers=headers) as response:
                status = response.status
                text = await response.text()
        finally:
            if self._on_request is not None:
                self._on_request(method, status, time.monotonic() - started)
        answer = json.loads(text) if text else None
        if status == 404:
            return None
        if status >= 400:
            raise ApiError(status, (answer or {}).get("reason", ""),
                           (answer or {}).get("message", text[:300]))
        return answer if isinstance(answer, dict) else None

    async def get(self, kind: str, namespace: str | None, name: str) -> Body | None:
        """The object, or None when it does not exist."""
        return await self._request("GET", path(kind, namespace, name))

    async def create(self, manifest: Body) -> Body:
        """POST; ApiError 409 when the name is taken."""
        meta = manifest["metadata"]
        created = await self._request("POST", path(manifest["kind"], meta.get("namespace")),
                                      manifest, {"fieldManager": labels.FIELD_MANAGER})
        if created is None:
            raise ApiError(404, "NotFound", f"cannot create {manifest['kind']} {meta['name']}: "
                           "namespace or resource type not found")
        return created

    async def apply(self, manifest: Body) -> Body | None:
        """Server-side apply of our fields (force: the operator owns what it declares)."""
        meta = manifest["metadata"]
        return await self._request(
            "PATCH", path(manifest["kind"], meta.get("namespace"), meta["name"]), manifest,
            {"fieldManager": labels.FIELD_MANAGER, "force": "true"},
            "application/apply-patch+yaml")

    async def merge_patch(self, kind: str, namespace: str | None, name: str, patch: Body,
                          subresource: str | None = None) -> Body | None:
        """JSON merge patch (e.g. of ``status``); None when the object is gone."""
        return await self._request(
            "PATCH", path(kind, namespace, name, subresource), patch,
            {"fieldManager": labels.FIELD_MANAGER}, "application/merge-patch+json")

    async def delete(self, kind: str, namespace: str | None, name: str,
                     uid: str | None = None) -> bool:
        """Delete (only the object with ``uid``, when given); False if it was already gone."""
        options: Body = {"kind": "DeleteOptions", "apiVersion": "v1",
                         "propagationPolicy": "Background"}
        if uid:
            options["preconditions"] = {"uid": uid}
        try:
            return await self._request("DELETE", path(kind, namespace, name), options) is not None
        except ApiError as error:
            if error.status == 409:  # the uid precondition failed: a newer object has the name
                return False
            raise

    async def record_event(self, involved: Mapping[str, str], type_: str, reason: str,
                           message: str) -> None:
        """Post a Kubernetes Event about ``involved``; best effort, failures only logged."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{involved['name']}.",
                         "namespace": involved["namespace"]},
            "involvedObject": dict(involved), "type": type_, "reason": reason,
            "message": message[:1024], "source": {"component": labels.FIELD_MANAGER},
            "reportingComponent": f"{labels.GROUP}/operator", "reportingInstance": self.instance,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
        try:
            await self.create(event)
        except (ApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not post event %s for %s/%s: %s", reason,
                           involved["namespace"], involved["name"], error)
