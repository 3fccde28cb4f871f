"""PersistentVolumeClaim (a seat's home): indexed when arcdesk's; any change (a deletion, an
edit, a removed label) queues its owner for a reconcile, which repairs it."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk import state, views


def _arcdesk_object(body: kopf.Body, **_: Any) -> bool:
    return views.is_arcdesk_object(body)


@kopf.index("", "v1", "persistentvolumeclaims", id=state.CHILDREN["PersistentVolumeClaim"],
            when=_arcdesk_object)
async def claim_index(body: kopf.Body, **_: Any) -> dict[tuple[str, str], views.ObjectView]:
    return state.child_keys(views.object_view(body))


@kopf.on.event("", "v1", "persistentvolumeclaims", when=_arcdesk_object)
async def claim_event(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.child_changed(body)
