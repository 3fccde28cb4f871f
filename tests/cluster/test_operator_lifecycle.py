"""A course's whole life: deleting it (homes kept or not, as its reclaimPolicy says) and
an operator killed in the middle of provisioning 100 seats."""

from __future__ import annotations

import time

from kubernetes import client

from devcluster.kit import wait_for
from tests.cluster.inventory import Snapshot, assert_exactly, seat_names
from tests.cluster.operator_fixture import (  # noqa: F401 - fixtures
    OperatorProcess,
    operator_fixture,
    profile_fixture,
)
from tests.cluster.operator_helpers import Namespace, Obj, controller_uid


def test_deleting_courses_keeps_homes_only_under_retain(
        api: client.ApiClient, namespace: str, operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("keep", profile, {"count": 2})  # reclaimPolicy Retain, the default
    ns.create_course("drop", profile, {"count": 2}, storage={"reclaimPolicy": "Delete"})
    ns.wait_ready("keep", 2)
    ns.wait_ready("drop", 2)
    seats, claims = ns.seats(), ns.claims()
    assert controller_uid(claims["drop-seat-001-home"]) == seats["drop-seat-001"]["metadata"]["uid"]
    assert controller_uid(claims["keep-seat-001-home"]) is None

    ns.delete_course("keep")
    ns.delete_course("drop")

    def all_gone() -> bool:
        return (not ns.seats() and not ns.pods() and not ns.services() and not ns.policies()
                and not ns.secrets()
                and set(ns.claims()) == {"keep-seat-001-home", "keep-seat-002-home"})

    wait_for("every object but the retained homes gone", all_gone, timeout=60)


def test_operator_killed_while_provisioning_100_seats(
        api: client.ApiClient, namespace: str, operator: OperatorProcess, profile: str) -> None:
    ns = Namespace(api, namespace)
    ns.create_course("big", profile, {"count": 100})
    expected = seat_names("big", 100)

    def partly_provisioned() -> dict[str, Obj] | None:
        secrets = {n: s for n, s in ns.secrets().items() if n in expected}
        return secrets if len(secrets) >= 10 else None

    wait_for("provisioning under way", partly_provisioned, timeout=60, interval=0.05)
    operator.kill()
    time.sleep(0.5)  # let writes already in flight land before looking
    before = Snapshot.of(ns)
    assert len(ns.pods()) < 100, "the operator was killed after provisioning finished"

    operator.start()
    ns.wait_ready("big", 100, timeout=150)
    assert_exactly(ns, "big", 100, before)
