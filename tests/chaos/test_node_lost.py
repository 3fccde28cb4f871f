"""A KWOK node is deleted under a running course (a cloud VM gone): the seats it held move
to the other nodes by themselves. The operator sees only the pods disappear (the pod
garbage collector deletes pods bound to a node that no longer exists, after its 40 s
quarantine) and starts each desktop anew, saying so (a DesktopLost event, "starting
again: its pod on node ... went away" while it starts); Secrets and homes are kept."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from kubernetes import client

from devcluster import resources
from devcluster.kit import Kubectl, wait_for
from tests.cluster.inventory import Snapshot, assert_exactly
from tests.cluster.operator_fixture import OperatorProcess
from tests.cluster.operator_helpers import Namespace

pytestmark = pytest.mark.chaos
SEATS = 20
# PodGC's quarantine (40 s) plus its period (20 s), then the new pods start in seconds.
MOVE_BOUND = 100.0


def placement(ns: Namespace) -> Counter[str]:
    """Desktop pods per node (pods being deleted left out)."""
    return Counter(p["spec"].get("nodeName", "") for p in ns.pods().values()
                   if not p["metadata"].get("deletionTimestamp"))


def test_a_deleted_node_s_seats_move_to_the_other_nodes(
        api: client.ApiClient, kubectl: Kubectl, namespace: str, operator: OperatorProcess,
        profile: str, recovery: list[tuple[str, float, str]]) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("class", profile, {"count": SEATS})
    ns.wait_ready("class", SEATS)
    before = Snapshot.of(ns)
    lost, held = placement(ns).most_common(1)[0]
    config = resources.load_config()
    try:
        kubectl.run("delete", "node", lost, "--wait=true")
        deleted = time.monotonic()
        wait_for(f"no desktop left on {lost}", lambda: lost not in placement(ns),
                 timeout=MOVE_BOUND)
        ns.wait_ready("class", SEATS, timeout=MOVE_BOUND - (time.monotonic() - deleted))
        took = time.monotonic() - deleted
    finally:
        resources.ensure_nodes(kubectl, config)  # the devcluster keeps its nodes
    placed = placement(ns)
    assert lost not in placed and sum(placed.values()) == SEATS, placed
    assert_exactly(ns, "class", SEATS, before)
    told = {e["involvedObject"]["name"]: e["message"] for e in kubectl.get_json(
        "events", "-n", namespace, "--field-selector", "reason=DesktopLost")["items"]}
    assert len(told) == held and all(lost in m for m in told.values()), told
    recovery.append((f"KWOK node deleted ({held} of {SEATS} seats on it)", took,
                     f"{held} seats Ready on other nodes, each told why; 0 duplicate, 0 orphan, "
                     "0 Secrets changed, 0 homes lost"))
