"""The asyncio client of the API server (aiohttp, which kopf and the gateway already
bring): the verbs arcdesk uses, paged lists, watches, with a bound on concurrent requests.

Why aiohttp directly (and not kubernetes_asyncio, or the sync client in threads): a watch
is one streaming GET of JSON lines, and cancelling a coroutine closes its connection
cleanly, where a watch blocked in a thread cannot be interrupted.

Objects are created with POST, never with server-side apply: apply would quietly adopt
an object someone else made with the same name. Fields of existing objects are then
(re)asserted with server-side apply, always as the client's ``field_manager``.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from arcdesk.api import labels
from arcdesk.api.model import format_time
from arcdesk.kube import kinds
from arcdesk.kube.connection import Connection
from arcdesk.kube.errors import ApiError, Call
from arcdesk.kube.http import Body, Http, RequestHook

logger = logging.getLogger(__name__)
LIST_PAGE = 500
WATCH_SECONDS = 290  # the server ends each watch; callers resume from the last version
# The API server sends a bookmark about once a minute on a quiet watch (allowWatchBookmarks):
# a stream silent for longer is dead (a dropped connection nobody closed), so it is abandoned
# and the caller resumes, as kopf's watching.inactivity_timeout does.
WATCH_INACTIVITY = 70.0


class Kube:
    """The API verbs arcdesk uses, over :class:`Http`; at most ``max_concurrency``
    requests in flight (watches aside). ``close()`` when done."""

    def __init__(self, connection: Connection, *, field_manager: str = labels.FIELD_MANAGER,
                 max_concurrency: int = 20, timeout: float = 30.0,
                 on_request: RequestHook | None = None) -> None:
        self.http = Http(connection, max_concurrency, timeout, on_request)
        self.request = self.http.request
        self.text = self.http.text
        self.field_manager = field_manager
        self.instance = socket.gethostname()

    @property
    def server(self) -> str:
        return self.http.server

    async def close(self) -> None:
        await self.http.close()

    async def get(self, kind: str, namespace: str | None, name: str,
                  required: bool = False) -> Body | None:
        """The object; None when it does not exist, unless ``required`` (then ApiError)."""
        try:
            return await self.request("GET", kinds.path(kind, namespace, name),
                                      Call("get", kinds.of(kind), namespace, name))
        except ApiError as error:
            if error.status == 404 and not required:
                return None
            raise

    async def list(self, kind: str, namespace: str | None, selector: str = "",
                   field_selector: str = "") -> tuple[list[Body], str]:
        """Every object (paged) and the list's resourceVersion to watch from."""
        items: list[Body] = []
        token = ""
        while True:
            query = {k: v for k, v in (("limit", str(LIST_PAGE)), ("labelSelector", selector),
                                       ("fieldSelector", field_selector), ("continue", token))
                     if v}
            page = await self.request("GET", kinds.path(kind, namespace),
                                      Call("list", kinds.of(kind), namespace), params=query)
            items += page.get("items") or []
            meta = page.get("metadata") or {}
            token = str(meta.get("continue") or "")
            if not token:
                return items, str(meta.get("resourceVersion", ""))

    async def watch(self, kind: str, namespace: str | None, resource_version: str,
                    selector: str = "", seconds: int = WATCH_SECONDS,
                    inactivity: float = WATCH_INACTIVITY,
                    ) -> AsyncIterator[tuple[str, Body]]:
        """(type, object) events from ``resource_version`` until the server ends the watch;
        BOOKMARK events too (they carry only a new resourceVersion). ApiError 410 when the
        version is too old: list again. A stream silent for ``inactivity`` seconds raises
        the same "no answer" error as a refused connection."""
        call = Call("watch", kinds.of(kind), namespace)
        query = {k: v for k, v in (("watch", "1"), ("allowWatchBookmarks", "true"),
                                   ("labelSelector", selector),
                                   ("resourceVersion", resource_version),
                                   ("timeoutSeconds", str(seconds))) if v}
        async for line in self.http.lines(kinds.path(kind, namespace), call, query, seconds,
                                          inactivity):
            yield watch_event(call, json.loads(line))

    async def create(self, manifest: Body) -> Body:
        """POST; ApiError 409 when the name is taken."""
        meta = manifest["metadata"]
        kind, namespace = manifest["kind"], meta.get("namespace")
        return await self.request("POST", kinds.path(kind, namespace),
                                  Call("create", kinds.of(kind), namespace, meta.get("name")),
                                  manifest, {"fieldManager": self.field_manager})

    async def apply(self, manifest: Body) -> Body | None:
        """Server-side apply of our fields (force: the writer owns what it declares)."""
        meta = manifest["metadata"]
        kind, namespace, name = manifest["kind"], meta.get("namespace"), meta["name"]
        return await self._unless_gone(self.request(
            "PATCH", kinds.path(kind, namespace, name),
            Call("apply", kinds.of(kind), namespace, name), manifest,
            {"fieldManager": self.field_manager, "force": "true"},
            "application/apply-patch+yaml"))

    async def merge_patch(self, kind: str, namespace: str | None, name: str, patch: Body,
                          subresource: str | None = None) -> Body | None:
        """JSON merge patch (e.g. of ``status``); None when the object is gone."""
        return await self._unless_gone(self.request(
            "PATCH", kinds.path(kind, namespace, name, subresource),
            Call("patch", kinds.of(kind), namespace, name), patch,
            {"fieldManager": self.field_manager}, "application/merge-patch+json"))

    async def delete(self, kind: str, namespace: str | None, name: str,
                     uid: str | None = None) -> bool:
        """Delete (only the object with ``uid``, when given); False if it was already gone
        or a newer object has the name."""
        options: Body = {"kind": "DeleteOptions", "apiVersion": "v1",
                         "propagationPolicy": "Background"}
        if uid:
            options["preconditions"] = {"uid": uid}
        try:
            await self.request("DELETE", kinds.path(kind, namespace, name),
                               Call("delete", kinds.of(kind), namespace, name), options)
        except ApiError as error:
            if error.status == 404:
                return False
            if error.status == 409 and uid:  # the uid precondition failed
                return False
            raise
        return True

    async def _unless_gone(self, pending: Any) -> Body | None:
        try:
            answer: Body = await pending
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        return answer

    async def record_event(self, involved: Mapping[str, str], type_: str, reason: str,
                           message: str) -> None:
        """Post a Kubernetes Event about ``involved``; best effort, failures only logged."""
        now = format_time(datetime.now(UTC))
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{involved['name']}.",
                         "namespace": involved["namespace"]},
            "involvedObject": dict(involved), "type": type_, "reason": reason,
            "message": message[:1024], "source": {"component": self.field_manager},
            "reportingComponent": f"{labels.GROUP}/operator", "reportingInstance": self.instance,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
        try:
            await self.create(event)
        except ApiError as error:
            logger.warning("could not post event %s for %s/%s: %s", reason,
                           involved["namespace"], involved["name"], error)


def watch_event(call: Call, event: Body) -> tuple[str, Body]:
    """One decoded watch line; an ERROR event becomes ApiError (410: list again)."""
    type_, obj = str(event.get("type")), event.get("object") or {}
    if type_ == "ERROR":
        raise ApiError.from_answer(call, int(obj.get("code") or 500), json.dumps(obj))
    return type_, obj
