"""Pod (the desktop): indexed when arcdesk's; any change (a deletion, an
edit, a removed label) queues its owner for a reconcile, which repairs it."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk import state, views


def _arcdesk_object(body: kopf.Body, **_: Any) -> bool:
    return views.is_arcdesk_object(body)


@kopf.index("", "v1", "pods", id=state.CHILDREN["Pod"], when=_arcdesk_object)
async def pod_index(body: kopf.Body, **_: Any) -> dict[tuple[str, str], views.ObjectView]:
    return state.child_keys(views.object_view(body))


@kopf.on.event("", "v1", "pods", when=_arcdesk_object)
async def pod_event(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.child_changed(body)
