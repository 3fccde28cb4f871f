"""An in-memory API server behind the reconcilers' interface (``kube.api.Writer``), for
unit tests of the write paths: create → 409 → GET → conflict, recreate, requeue.

What it honours, as a real API server does: names are unique per kind and namespace (409
AlreadyExists), missing objects are 404 (None from get/patch, False from delete), every
write bumps ``metadata.resourceVersion``, a ``resourceVersion`` in a patch or apply is a
precondition (409 Conflict), a Secret's stringData is stored base64 in data, a delete's
uid precondition (409, so False), a ``status`` subresource patch changes only status, a
spec change bumps ``generation``, and a delete removes the objects that name the deleted
one as owner (background garbage collection).

What it simplifies, and says so: server-side apply merges the manifest into the object
(fields the field manager dropped are not removed); no admission, no defaulting, no
validation. ``fail(...)`` injects an error answer for faults a test cannot cause otherwise.
"""

from __future__ import annotations

import base64
import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arcdesk.kube import kinds
from arcdesk.kube.errors import ApiError, Call

Body = dict[str, Any]
Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name


@dataclass
class Injected:
    verb: str
    kind: str
    status: int
    message: str
    times: int = 1


@dataclass
class FakeKube:
    objects: dict[Key, Body] = field(default_factory=dict)
    # (involved name, type, reason, message)
    events: list[tuple[str, str, str, str]] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # verb, kind, name
    _faults: list[Injected] = field(default_factory=list)
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _uids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- what tests use ------------------------------------------------------------------
    def put(self, manifest: Body) -> Body:
        """Store ``manifest`` as if someone else had made it; returns the stored copy."""
        return self._store(copy.deepcopy(manifest))

    def find(self, kind: str, namespace: str | None, name: str) -> Body | None:
        return self.objects.get(_key(kind, namespace, name))

    def of_kind(self, kind: str) -> list[Body]:
        return [obj for (k, _, _), obj in sorted(self.objects.items()) if k == kind]

    def fail(self, verb: str, kind: str, status: int, message: str, times: int = 1) -> None:
        """The next ``times`` calls of ``verb`` on ``kind`` get this error answer."""
        self._faults.append(Injected(verb, kind, status, message, times))

    def writes(self) -> list[tuple[str, str, str]]:
        return [c for c in self.calls if c[0] != "get"]

    # -- the reconcilers' interface ------------------------------------------------------
    async def get(self, kind: str, namespace: str | None, name: str,
                  required: bool = False) -> Body | None:
        self._enter("get", kind, namespace, name)
        found = self.find(kind, namespace, name)
        if found is None and required:
            raise _error("get", kind, namespace, name, 404, "NotFound")
        return copy.deepcopy(found)

    async def list(self, kind: str, namespace: str | None, selector: str = "",
                   field_selector: str = "") -> tuple[list[Body], str]:
        """Objects of ``kind`` in ``namespace`` whose labels match ``selector`` (a=b,...)."""
        self._enter("list", kind, namespace, "")
        wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
        found = [copy.deepcopy(o) for (k, ns, _), o in sorted(self.objects.items())
                 if k == kind and ns == namespace
                 and wanted.items() <= (o["metadata"].get("labels") or {}).items()]
        return found, str(next(self._versions))

    async def create(self, manifest: Body) -> Body:
        meta = manifest["metadata"]
        kind, namespace = manifest["kind"], meta.get("namespace")
        name = meta.get("name") or f"{meta.get('generateName', '')}{next(self._uids):05d}"
        self._enter("create", kind, namespace, name)
        if self.find(kind, namespace, name) is not None:
            raise _error("create", kind, namespace, name, 409, "AlreadyExists")
        stored = copy.deepcopy(manifest)
        stored["metadata"]["name"] = name
        return copy.deepcopy(self._store(stored))

    async def apply(self, manifest: Body) -> Body | None:
        meta = manifest["metadata"]
        kind, namespace, name = manifest["kind"], meta.get("namespace"), meta["name"]
        self._enter("apply", kind, namespace, name)
        found = self.find(kind, namespace, name)
        if found is None:
            return copy.deepcopy(self._store(copy.deepcopy(manifest)))
        self._precondition("apply", found, meta)
        return self._update(found, _merged(found, manifest, deletes=False))

    async def merge_patch(self, kind: str, namespace: str | None, name: str, patch: Body,
                          subresource: str | None = None) -> Body | None:
        self._enter("patch", kind, namespace, name)
        found = self.find(kind, namespace, name)
        if found is None:
            return None
        self._precondition("patch", found, patch.get("metadata") or {})
        if subresource == "status":
            patch = {"status": patch.get("status")}
        else:
            patch = {k: v for k, v in patch.items() if k != "status" or kind not in _WITH_STATUS}
        return self._update(found, _merged(found, patch, deletes=True))

    async def delete(self, kind: str, namespace: str | None, name: str,
                     uid: str | None = None) -> bool:
        self._enter("delete", kind, namespace, name)
        found = self.find(kind, namespace, name)
        if found is None or (uid and found["metadata"]["uid"] != uid):
            return False
        self._collect(found["metadata"]["uid"])
        del self.objects[_key(kind, namespace, name)]
        return True

    async def record_event(self, involved: Mapping[str, str], type_: str, reason: str,
                           message: str) -> None:
        self.events.append((involved["name"], type_, reason, message))

    # -- inside --------------------------------------------------------------------------
    def _enter(self, verb: str, kind: str, namespace: str | None, name: str) -> None:
        self.calls.append((verb, kind, name))
        for fault in self._faults:
            if fault.verb == verb and fault.kind == kind and fault.times > 0:
                fault.times -= 1
                raise ApiError(fault.status, "Injected", fault.message,
                               call=Call(verb, kinds.of(kind), namespace, name))

    def _store(self, obj: Body) -> Body:
        _encode_string_data(obj)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", f"fake-uid-{next(self._uids)}")
        meta.setdefault("creationTimestamp", "2026-12-01T08:00:00Z")
        meta["generation"] = 1
        meta["resourceVersion"] = str(next(self._versions))
        self.objects[_key(obj["kind"], meta.get("namespace"), meta["name"])] = obj
        return obj

    def _update(self, found: Body, changed: Body) -> Body:
        _encode_string_data(changed)
        meta = changed["metadata"]
        if changed.get("spec") != found.get("spec"):
            meta["generation"] = int(found["metadata"].get("generation", 1)) + 1
        meta["resourceVersion"] = str(next(self._versions))
        self.objects[_key(changed["kind"], meta.get("namespace"), meta["name"])] = changed
        return copy.deepcopy(changed)

    @staticmethod
    def _precondition(verb: str, found: Body, meta: Mapping[str, Any]) -> None:
        wanted = meta.get("resourceVersion")
        if wanted and wanted != found["metadata"]["resourceVersion"]:
            m = found["metadata"]
            raise _error(verb, found["kind"], m.get("namespace"), m["name"], 409, "Conflict")

    def _collect(self, uid: str) -> None:
        """Background garbage collection of everything ``uid`` owns, transitively."""
        for key, obj in list(self.objects.items()):
            owners = obj["metadata"].get("ownerReferences") or []
            if key in self.objects and any(o.get("uid") == uid for o in owners):
                del self.objects[key]
                self._collect(obj["metadata"]["uid"])


_WITH_STATUS = frozenset({"Course", "Seat", "Pod"})  # status is a subresource of these


def _key(kind: str, namespace: str | None, name: str) -> Key:
    return (kind, (namespace or "") if kinds.of(kind).namespaced else "", name)


def _encode_string_data(obj: Body) -> None:
    """A Secret's stringData is write-only: the API server stores it base64 in data."""
    if obj.get("kind") == "Secret" and "stringData" in obj:
        data = obj.setdefault("data", {})
        for key, value in (obj.pop("stringData") or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def _merged(base: Any, patch: Any, deletes: bool) -> Any:
    """RFC 7386 merge of ``patch`` into a copy of ``base`` (None deletes, when ``deletes``)."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(base)
    for k, v in patch.items():
        if v is None and deletes:
            merged.pop(k, None)
        else:
            merged[k] = _merged(merged.get(k), v, deletes)
    return merged


def _error(verb: str, kind: str, namespace: str | None, name: str, status: int,
           reason: str) -> ApiError:
    message = f'{kinds.of(kind).plural} "{name}" {reason}'
    return ApiError(status, reason, message, details={"name": name, "kind": kind},
                    call=Call(verb, kinds.of(kind), namespace, name))
