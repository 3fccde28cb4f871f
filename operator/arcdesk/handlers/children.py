"""The objects arcdesk makes for a seat or a course — Pod, Service, Secret, home PVC,
NetworkPolicy — are handled alike, so one loop registers them: each is indexed when it is
arcdesk's (Secrets by key names only, never values), and any change to one (a deletion, an
edit, a removed label) queues its owner for a reconcile, which repairs it."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk import state, views

# kind -> (API group, version, plural)
CHILD_RESOURCES = {
    "Pod": ("", "v1", "pods"),
    "Service": ("", "v1", "services"),
    "Secret": ("", "v1", "secrets"),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims"),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies"),
}


def _arcdesk_object(body: kopf.Body, **_: Any) -> bool:
    return views.is_arcdesk_object(body)


async def child_index(body: kopf.Body, **_: Any) -> dict[tuple[str, str], views.ObjectView]:
    return state.child_keys(views.object_view(body))


async def child_event(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.child_changed(body)


for _kind, (_group, _version, _plural) in CHILD_RESOURCES.items():
    kopf.index(_group, _version, _plural, id=state.CHILDREN[_kind],
               when=_arcdesk_object)(child_index)
    kopf.on.event(_group, _version, _plural, id=f"{_plural}_event",
                  when=_arcdesk_object)(child_event)
