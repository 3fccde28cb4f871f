"""StorageClasses (cluster-scoped): only their binding mode is indexed. Where a class binds
Immediately, a seat's pod waits for its home to be bound (seat_logic.home_bound), because
the scheduler backs off from a pod whose claim is still unbound."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk.engine import state


@kopf.index("storage.k8s.io", "v1", "storageclasses", id=state.STORAGE_CLASSES)
async def storage_class_index(body: kopf.Body, **_: Any) -> dict[str, str]:
    return {body.get("metadata", {}).get("name", ""): body.get("volumeBindingMode", "Immediate")}
