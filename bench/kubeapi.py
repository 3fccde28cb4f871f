"""A small asyncio client of the devcluster's API server for the operator benchmarks:
plain requests, list-then-watch, and the API server's own request counters.

It is not the operator's client (arcdesk.kube): the benchmarks observe the operator and
act as its baseline, so they must not share its code paths beyond loading credentials.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from arcdesk.kube import ApiError, load_credentials

REPO = Path(__file__).resolve().parents[1]
KUBECONFIG = REPO / ".devcluster" / "kubeconfig"
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"})
# Objects arcdesk writes. Left out as other components' writes: subresources except the
# status of courses and seats (pods/binding: the scheduler; pods/status: KWOK), PUT (the
# PV controller's claim updates; arcdesk never PUTs) and events.k8s.io (the scheduler's).
ARCDESK_RESOURCES = frozenset({"courses", "seats", "pods", "services", "secrets",
                               "persistentvolumeclaims", "networkpolicies", "events"})
OWN_STATUS = frozenset({"courses", "seats"})
_SAMPLE = re.compile(r'^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')
Obj = dict[str, Any]
WriteKey = tuple[str, str, str, str]  # (group, resource, subresource, verb)


class Api:
    """Requests to the API server with the kubeconfig's credentials; counts its own verbs."""

    def __init__(self, kubeconfig: Path = KUBECONFIG, connections: int = 64) -> None:
        credentials = load_credentials(str(kubeconfig))
        self.server, self._authorization = credentials.server, credentials.authorization
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=credentials.ssl_context, limit=connections),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        self.sent: Counter[str] = Counter()

    async def close(self) -> None:
        await self._session.close()

    def _headers(self, content_type: str) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        return headers

    async def request(self, method: str, path: str, body: Any = None,
                      params: Mapping[str, str] | None = None,
                      content_type: str = "application/json") -> Obj | None:
        """The decoded answer; None for 404; ApiError for other errors."""
        self.sent[method] += 1
        data = None if body is None else json.dumps(body)
        async with self._session.request(method, self.server + path, data=data, params=params,
                                         headers=self._headers(content_type),
                                         timeout=aiohttp.ClientTimeout(total=120)) as response:
            text = await response.text()
            status = response.status
        if status == 404:
            return None
        answer = json.loads(text) if text and text.startswith("{") else {}
        if status >= 400:
            raise ApiError(status, answer.get("reason", ""), answer.get("message", text[:300]))
        return answer

    async def text(self, path: str) -> str:
        async with self._session.get(self.server + path, headers=self._headers("text/plain"),
                                     timeout=aiohttp.ClientTimeout(total=60)) as response:
            response.raise_for_status()
            return await response.text()

    async def list_and_watch(self, path: str) -> AsyncIterator[tuple[str, Obj]]:
        """Every object as ADDED, then SYNCED (no object), then the watch events; relists
        when the watch expires."""
        while True:
            listed = await self.request("GET", path)
            assert listed is not None, f"cannot list {path}"
            for item in listed["items"]:
                yield "ADDED", item
            yield "SYNCED", {}
            version = listed["metadata"]["resourceVersion"]
            async for kind, obj in self._watch(path, version):
                if kind == "ERROR":
                    break  # 410 Gone: start over with a fresh list
                if kind != "BOOKMARK":
                    yield kind, obj
                version = obj["metadata"].get("resourceVersion", version)

    async def _watch(self, path: str, version: str) -> AsyncIterator[tuple[str, Obj]]:
        params = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true",
                  "timeoutSeconds": "600"}
        while True:
            async with self._session.get(self.server + path, params=params,
                                         headers=self._headers("application/json")) as response:
                if response.status >= 400:
                    yield "ERROR", {"metadata": {}}
                    return
                buffer = b""
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            event = json.loads(line)
                            params["resourceVersion"] = event["object"]["metadata"].get(
                                "resourceVersion", params["resourceVersion"])
                            yield event["type"], event["object"]

    async def apiserver_writes(self) -> Snapshot:
        """The API server's apiserver_request_total for write verbs, cluster-wide."""
        snapshot = Snapshot()
        for line in (await self.text("/metrics")).splitlines():
            if line.startswith("process_start_time_seconds "):
                snapshot.started = float(line.split()[1])
            match = _SAMPLE.match(line)
            if match is None:
                continue
            found = dict(_LABEL.findall(match["labels"]))
            if found.get("verb") in WRITE_VERBS:
                key = (found.get("group", ""), found.get("resource", ""),
                       found.get("subresource", ""), found["verb"])
                snapshot.writes[key] += int(float(match["value"]))
        return snapshot


@dataclass
class Snapshot:
    writes: Counter[WriteKey] = field(default_factory=Counter)
    started: float = 0.0  # the API server process's start time: counters reset with it


def arcdesk_writes(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """Writes the API server served between two snapshots to the objects arcdesk writes,
    keyed ``resource[/subresource] VERB`` (cluster-wide: others' tests count too)."""
    if before.started != after.started:
        return {"apiserver_restarted": True}
    delta = after.writes - before.writes
    return {f"{r}{'/' + s if s else ''} {v}": n for (g, r, s, v), n in sorted(delta.items())
            if r in ARCDESK_RESOURCES and v != "PUT" and not (r == "events" and g)
            and (not s or (s == "status" and r in OWN_STATUS))}
