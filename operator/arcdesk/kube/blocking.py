"""The same client for the CLI, which is synchronous: each call runs the async client on
a short-lived event loop, so requests, credentials and error lines are exactly the
operator's and the gateway's. One session per call: a CLI command makes a handful of
requests, and nothing is left open when it exits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from arcdesk.kube import connection as conn
from arcdesk.kube import kinds
from arcdesk.kube.client import Kube
from arcdesk.kube.errors import ApiError, Call, not_found
from arcdesk.kube.kinds import Kind

CLI_MANAGER = "arcdesk-cli"
TIMEOUT = 30.0  # per request; connecting gives up after 5 s, so a dead cluster fails fast
T = TypeVar("T")
Obj = dict[str, Any]


class Cluster:
    """Blocking JSON requests to one API server as the kubeconfig's user; ``namespace``
    is the default for calls that do not name one."""

    def __init__(self, connection: conn.Connection, namespace: str | None = None) -> None:
        self.connection = connection
        self.namespace = namespace or connection.namespace
        self.server = connection.server

    def _run(self, work: Callable[[Kube], Awaitable[T]]) -> T:
        async def once() -> T:
            kube = Kube(self.connection, field_manager=CLI_MANAGER, max_concurrency=4,
                        timeout=TIMEOUT)
            try:
                return await work(kube)
            except ApiError as error:
                raise await _worded(kube, error) from None
            finally:
                await kube.close()
        return asyncio.run(once())

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> Obj:
        """The object, or ApiError naming what was not found."""
        ns = namespace or self.namespace
        found = self._run(lambda kube: kube.get(kind.kind, ns, name, required=True))
        assert found is not None  # required=True raises instead
        return found

    def list(self, kind: Kind, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[Obj]:
        ns = namespace or self.namespace
        items, _ = self._run(lambda kube: kube.list(kind.kind, ns, selector or "",
                                                    field_selector or ""))
        return items

    def create(self, kind: Kind, obj: Obj, namespace: str) -> Obj:
        return self._run(lambda kube: kube.create(_placed(kind, obj, namespace)))

    def apply(self, kind: Kind, obj: Obj, namespace: str) -> Obj:
        """Server-side apply as ``arcdesk-cli``: the cluster ends up matching the file."""
        applied = self._run(lambda kube: kube.apply(_placed(kind, obj, namespace)))
        return applied or {}

    def patch(self, kind: Kind, name: str, patch: Obj, namespace: str | None = None,
              subresource: str | None = None) -> Obj:
        """JSON merge patch of ``name`` (or of its ``subresource``)."""
        ns = namespace or self.namespace
        patched = self._run(lambda kube: kube.merge_patch(kind.kind, ns, name, patch,
                                                          subresource))
        if patched is None:
            raise _gone(kind, ns, name)
        return patched

    def delete(self, kind: Kind, name: str, namespace: str | None = None) -> None:
        ns = namespace or self.namespace
        if not self._run(lambda kube: kube.delete(kind.kind, ns, name)):
            raise _gone(kind, ns, name)


async def _worded(kube: Kube, error: ApiError) -> ApiError:
    """A named 404 of arcdesk's kinds may mean the API group is unknown: ask discovery."""
    if error.status != 404 or not error.details.get("name") or error.call is None \
            or not error.call.kind.ours:
        return error
    try:
        await kube.request("GET", f"/{kinds.OURS}", Call("discover", kinds.COURSE, None))
    except ApiError as discovery:
        if discovery.crds_missing:
            return discovery
    return error


def _placed(kind: Kind, obj: Obj, namespace: str) -> Obj:
    """``obj`` with its kind and (for namespaced kinds) namespace filled in."""
    meta = dict(obj.get("metadata") or {})
    if kind.namespaced:
        meta["namespace"] = namespace
    return {**obj, "kind": kind.kind, "metadata": meta}


def _gone(kind: Kind, namespace: str, name: str) -> ApiError:
    call = Call("get", kind, namespace, name)
    where = f" in namespace {namespace}" if kind.namespaced else ""
    line = not_found(call, {"name": name}, where)
    return ApiError(404, "NotFound", f"{kind.plural} {name!r} not found", line)


def connect(kubeconfig: Path | None = None, context: str | None = None,
            namespace: str | None = None) -> Cluster:
    """A :class:`Cluster` as kubectl would pick it; ApiError when that cannot be used."""
    return Cluster(conn.connect(kubeconfig, context), namespace)
