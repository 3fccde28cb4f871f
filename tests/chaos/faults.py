"""Faults of the devcluster's control plane, caused for real on its processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from devcluster import cluster, processes
from devcluster.components import Layout


@contextmanager
def stopped(layout: Layout, component: str, seconds: float) -> Iterator[None]:
    """``component`` (e.g. kube-apiserver, etcd) stopped for ``seconds``; the body runs once
    it is down. Started again afterwards the way `make cluster-up` starts it, waiting until
    it answers its health check."""
    assert processes.running_pid(layout.pids, component), f"{component} is not running"
    down_at = time.monotonic()
    processes.stop(layout.pids, component)
    try:
        yield
        time.sleep(max(0.0, seconds - (time.monotonic() - down_at)))
    finally:
        cluster.start_missing_components(layout)
