"""The benchmarks' view of arcdesk's one API client: requests by raw path (404 as None),
list-then-watch of one kind, and the API server's own request counters.

The benchmarks act as the operator's baseline through the same client (``arcdesk.kube``),
so they measure what the operator does with it, not a difference between two clients.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arcdesk.kube import ApiError, Kube, connect
from arcdesk.kube.errors import Call
from arcdesk.kube.kinds import NAMESPACE

REPO = Path(__file__).resolve().parents[1]
KUBECONFIG = REPO / ".devcluster" / "kubeconfig"
FIELD_MANAGER = "arcdesk-bench"
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"})
# Objects arcdesk writes. Left out as other components' writes: subresources except the
# status of courses and seats (pods/binding: the scheduler; pods/status: KWOK), PUT (the
# PV controller's claim updates; arcdesk never PUTs) and events.k8s.io (the scheduler's).
ARCDESK_RESOURCES = frozenset({"courses", "seats", "pods", "services", "secrets",
                               "persistentvolumeclaims", "networkpolicies", "events"})
OWN_STATUS = frozenset({"courses", "seats"})
_SAMPLE = re.compile(r'^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')
_RAW = Call("request", NAMESPACE, None)  # a raw path: errors name the path, not a kind
GONE = 410
Obj = dict[str, Any]
WriteKey = tuple[str, str, str, str]  # (group, resource, subresource, verb)


class Api:
    """Requests with the kubeconfig's credentials; counts its own verbs in ``sent``."""

    def __init__(self, kubeconfig: Path = KUBECONFIG, connections: int = 64) -> None:
        self.sent: Counter[str] = Counter()
        self.kube = Kube(connect(kubeconfig), field_manager=FIELD_MANAGER,
                         max_concurrency=connections, timeout=120,
                         on_request=lambda verb, _status, _seconds: self.sent.update([verb]))

    async def close(self) -> None:
        await self.kube.close()

    async def request(self, method: str, path: str, body: Any = None,
                      params: Mapping[str, str] | None = None,
                      content_type: str = "application/json") -> Obj | None:
        """The decoded answer; None for 404; ApiError for other errors."""
        try:
            return await self.kube.request(method, path, _RAW, body, params, content_type)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def text(self, path: str) -> str:
        return await self.kube.text(path)

    async def list_and_watch(self, kind: str, namespace: str,
                             ) -> AsyncIterator[tuple[str, Obj]]:
        """Every object as ADDED, then SYNCED (no object), then the watch events; lists
        again when the watch expires."""
        while True:
            items, version = await self.kube.list(kind, namespace)
            for item in items:
                yield "ADDED", item
            yield "SYNCED", {}
            try:
                while True:
                    async for type_, obj in self.kube.watch(kind, namespace, version,
                                                            seconds=600):
                        version = obj["metadata"].get("resourceVersion", version)
                        if type_ != "BOOKMARK":
                            yield type_, obj
            except ApiError as error:
                if error.status != GONE:
                    raise

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
