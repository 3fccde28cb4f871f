"""What the reconcilers need of the API server: the verbs ``Kube`` serves and
``FakeKube`` imitates. Typed, so a reconcile cannot reach for anything else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

Body = dict[str, Any]


class Writer(Protocol):
    async def get(self, kind: str, namespace: str | None, name: str,
                  required: bool = False) -> Body | None: ...

    async def list(self, kind: str, namespace: str | None, selector: str = "",
                   field_selector: str = "") -> tuple[list[Body], str]: ...

    async def create(self, manifest: Body) -> Body: ...

    async def apply(self, manifest: Body) -> Body | None: ...

    async def merge_patch(self, kind: str, namespace: str | None, name: str, patch: Body,
                          subresource: str | None = None) -> Body | None: ...

    async def delete(self, kind: str, namespace: str | None, name: str,
                     uid: str | None = None) -> bool: ...

    async def record_event(self, involved: Mapping[str, str], type_: str, reason: str,
                           message: str) -> None: ...
