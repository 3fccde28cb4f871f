"""Seat: indexed; a change queues the seat, and its course for the seat counts."""

from __future__ import annotations

from typing import Any

import kopf

from arcdesk.api import labels, views
from arcdesk.engine import state


@kopf.index(labels.GROUP, labels.VERSION, "seats", id=state.SEATS)
async def seat_index(body: kopf.Body, **_: Any) -> dict[tuple[str, ...], views.SeatView]:
    return state.seat_keys(views.seat_view(body))


@kopf.on.event(labels.GROUP, labels.VERSION, "seats")
async def seat_event(namespace: str | None, name: str, spec: kopf.Spec, memo: Any,
               **_: Any) -> None:
    memo.runtime.seat_changed(namespace or "", name, spec.get("course", ""))
