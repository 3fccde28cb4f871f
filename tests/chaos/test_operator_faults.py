"""The operator fails while it works: SIGKILLed in the middle of a scale-down, and cut off
from the API server for 2 minutes (a network partition: a loopback relay that holds every
byte in both directions, then lets them flow on). After each: exactly the seats asked for,
each child its seat's, no Secret changed, no home lost (scaled-down homes are retained)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, watch

from devcluster.kit import OperatorProcess, wait_for
from tests.cluster.inventory import Snapshot, assert_exactly
from tests.cluster.operator_helpers import GROUP, VERSION, Namespace
from tests.relay import Relay, relayed_kubeconfig

pytestmark = pytest.mark.chaos
RECOVERY_BOUND = 60.0
PARTITION_S = 120.0


def test_operator_killed_during_a_scale_down(
        api: client.ApiClient, namespace: str, operator: OperatorProcess, profile: str,
        recovery: list[tuple[str, float, str]]) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("shrink", profile, {"count": 60})
    ns.wait_ready("shrink", 60, timeout=90)
    before = Snapshot.of(ns)
    first_removal = watch_seats(api, namespace, removing)
    ns.patch_course("shrink", {"spec": {"seats": {"count": 20}}})
    next(first_removal)  # polling lists can miss a scale-down that finishes in one interval
    operator.kill()
    first_removal.close()
    assert len(ns.seats()) > 20, "the scale-down finished before the operator was killed"
    killed = time.monotonic()
    operator.start()
    ns.wait_ready("shrink", 20, timeout=RECOVERY_BOUND)
    wait_for("the removed seats' pods gone", lambda: len(ns.pods()) == 20, timeout=30)
    took = time.monotonic() - killed
    assert_exactly(ns, "shrink", 20, before)
    recovery.append(("operator SIGKILL during a scale-down 60 -> 20", took,
                     "20 seats; 40 homes retained; 0 duplicate, 0 orphan, 0 Secrets changed"))


def removing(event: dict[str, Any]) -> bool:
    return event["type"] == "DELETED" or bool(event["object"]["metadata"].get(
        "deletionTimestamp"))


def watch_seats(api: client.ApiClient, namespace: str,
                wanted: Callable[[dict[str, Any]], bool]) -> Iterator[dict[str, Any]]:
    """Yields each Seat watch event for which ``wanted`` holds, from now on: the watch starts
    at the resourceVersion listed here, so a change made after this call is never missed."""
    custom = client.CustomObjectsApi(api)
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "seats")
    stream = watch.Watch().stream(
        custom.list_namespaced_custom_object, GROUP, VERSION, namespace, "seats",
        resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=60)
    return (event for event in stream if wanted(event))


@pytest.fixture
def partitioned_operator(kubeconfig: Path, namespace: str,
                         tmp_path: Path) -> Iterator[tuple[OperatorProcess, Relay]]:
    """An operator that reaches the API server only through a relay the test controls."""
    relay = Relay.to_apiserver(kubeconfig)
    config = relayed_kubeconfig(kubeconfig, relay, tmp_path / "relayed.kubeconfig")
    process = OperatorProcess(config, [namespace], tmp_path / "operator.log")
    process.start()
    yield process, relay
    relay.heal()
    process.stop()
    relay.close()
    print(f"--- operator log (tail) ---\n{process.log_tail()}")


def test_operator_cut_off_from_the_api_server_for_2_minutes(
        api: client.ApiClient, namespace: str, profile: str,
        partitioned_operator: tuple[OperatorProcess, Relay],
        recovery: list[tuple[str, float, str]]) -> None:
    operator, relay = partitioned_operator
    ns = Namespace(api, namespace)
    ns.create_course("island", profile, {"count": 20})
    ns.wait_ready("island", 20)
    before = Snapshot.of(ns)
    relay.partition()
    ns.patch_course("island", {"spec": {"seats": {"count": 25}}})  # the admin still gets in
    time.sleep(PARTITION_S)
    assert len(ns.seats()) == 20, "seats were made while the operator was cut off"
    relay.heal()
    healed = time.monotonic()
    ns.wait_ready("island", 25, timeout=RECOVERY_BOUND)
    took = time.monotonic() - healed
    assert operator.process is not None and operator.process.poll() is None, (
        f"the operator exited during the partition:\n{operator.log_tail()}")
    assert_exactly(ns, "island", 25, before)
    recovery.append(("operator cut off from the API server 2 min", took,
                     "20 seats + 5 asked for during the cut; 0 duplicate, 0 orphan, "
                     "0 Secrets changed, 0 homes lost"))
