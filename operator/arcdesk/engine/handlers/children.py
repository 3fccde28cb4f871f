"""The objects arcdesk makes for a seat or a course — Pod, Service, Secret, home PVC,
NetworkPolicy — are handled alike, so one loop registers them: each is indexed when it is
arcdesk's (Secrets by key names only, never values), and any change to one (a deletion, an
edit, a removed label) queues its owner for a reconcile, which repairs it."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk.api import views
from arcdesk.engine import state
from arcdesk.kube.kinds import CHILD_KINDS


def _arcdesk_object(body: kopf.Body, **_: Any) -> bool:
    return views.is_arcdesk_object(body)


async def child_index(body: kopf.Body, **_: Any) -> dict[tuple[str, str], views.ObjectView]:
    return state.child_keys(views.object_view(body))


async def child_event(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.child_changed(body)


for _kind in CHILD_KINDS:
    kopf.index(_kind.group, _kind.version, _kind.plural, id=state.CHILDREN[_kind.kind],
               when=_arcdesk_object)(child_index)
    kopf.on.event(_kind.group, _kind.version, _kind.plural, id=f"{_kind.plural}_event",
                  when=_arcdesk_object)(child_event)
