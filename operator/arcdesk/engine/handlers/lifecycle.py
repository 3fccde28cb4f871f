"""Operator start and stop: kopf settings, then the runtime's workers and probe server."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from arcdesk.engine import state
from arcdesk.kube.client import WATCH_INACTIVITY, WATCH_SECONDS


@kopf.on.startup()
async def operator_startup(settings: kopf.OperatorSettings, memo: kopf.Memo,
                           **kwargs: Any) -> None:
    # Only warnings become Kubernetes events; the operator posts its own notable ones.
    settings.posting.level = logging.WARNING
    # kopf keeps a task per object alive this long after its last event; with thousands
    # of pods, secrets and PVCs a short wait keeps the operator's memory small.
    settings.batching.idle_timeout = 1.0
    # Watches, explicitly (kopf's defaults leave the first three to the server and aiohttp):
    # each ends after 290 s and resumes; a stream without an event or bookmark (sent about
    # once a minute) for 70 s is dead and reconnected; a connect hangs no longer than 10 s.
    settings.watching.server_timeout = WATCH_SECONDS
    settings.watching.client_timeout = WATCH_SECONDS + 30
    settings.watching.connect_timeout = 10
    settings.watching.inactivity_timeout = WATCH_INACTIVITY
    # No handler here writes progress or diff-base annotations: all are watch/index
    # handlers, so objects stay free of kopf's bookkeeping and finalizers.
    await memo.runtime.start({index: kwargs[index] for index in state.INDEX_IDS})


@kopf.on.cleanup()
async def operator_cleanup(memo: kopf.Memo, **_: Any) -> None:
    await memo.runtime.stop()
