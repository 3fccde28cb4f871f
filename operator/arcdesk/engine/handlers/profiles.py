"""DesktopProfile (cluster-scoped): indexed; a change queues the courses that use it."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk.api import labels, views
from arcdesk.engine import state


@kopf.index(labels.GROUP, labels.VERSION, "desktopprofiles", id=state.PROFILES)
async def profile_index(body: kopf.Body, **_: Any) -> dict[str, views.ProfileView]:
    view = views.profile_view(body)
    return {view.name: view}


@kopf.on.event(labels.GROUP, labels.VERSION, "desktopprofiles")
async def profile_event(name: str, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.profile_changed(name)
