"""StorageClasses (cluster-scoped): their binding modes and which one is the default. Where
a class binds Immediately, a seat's pod waits for its home to be bound (seat_logic.home_wait),
because the scheduler backs off from a pod whose claim is still unbound; a home whose class
does not exist is reported (seat_logic.home_storage_problem)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import kopf

from arcdesk.engine import state


@kopf.index("storage.k8s.io", "v1", "storageclasses", id=state.STORAGE_CLASSES)
async def storage_class_index(body: kopf.Body, **_: Any) -> dict[Hashable, str]:
    return state.storage_class_keys(body)
