"""Operator start and stop: kopf settings, then the runtime's workers and probe server."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from arcdesk.engine import state


@kopf.on.startup()
async def operator_startup(settings: kopf.OperatorSettings, memo: kopf.Memo,
                           **kwargs: Any) -> None:
    # Only warnings become Kubernetes events; the operator posts its own notable ones.
    settings.posting.level = logging.WARNING
    # kopf keeps a task per object alive this long after its last event; with thousands
    # of pods, secrets and PVCs a short wait keeps the operator's memory small.
    settings.batching.idle_timeout = 1.0
    # No handler here writes progress or diff-base annotations: all are watch/index
    # handlers, so objects stay free of kopf's bookkeeping and finalizers.
    await memo.runtime.start({index: kwargs[index] for index in state.INDEX_IDS})


@kopf.on.cleanup()
async def operator_cleanup(memo: kopf.Memo, **_: Any) -> None:
    await memo.runtime.stop()
