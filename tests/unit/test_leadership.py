"""Leader election on a Lease: one replica acts at a time, a silent leader is replaced after
the lease duration as the standby observed it, a clean stop hands over at once, and a leader
that cannot renew stops before anyone else may start. Against the fake API (which enforces
resourceVersion preconditions like the real one) with a hand-driven clock."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

import pytest

from arcdesk.engine.leadership import Elector, LeaseSettings
from arcdesk.kube.fake import FakeKube

pytestmark = pytest.mark.unit
NS, NAME = "arcdesk", "arcdesk-operator"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def elector(kube: Any, identity: str, clock: Clock) -> Elector:
    return Elector(kube, LeaseSettings(NS, NAME, identity, duration=10, renew_deadline=7,
                                       retry=2), clock=clock)


def attempt(candidate: Elector) -> bool:
    return asyncio.run(candidate.try_once())


def holder(kube: FakeKube) -> str | None:
    lease = kube.find("Lease", NS, NAME)
    return None if lease is None else lease["spec"].get("holderIdentity")


def test_the_first_candidate_leads_and_the_second_stands_by_while_it_renews() -> None:
    kube, clock = FakeKube(), Clock()
    a, b = elector(kube, "a", clock), elector(kube, "b", clock)
    assert attempt(a) and not attempt(b)
    for _ in range(10):  # 20 s of renewals: far past the 10 s duration, b never takes over
        clock.now += 2
        assert attempt(a) and not attempt(b)
    assert holder(kube) == "a"
    assert kube.find("Lease", NS, NAME)["spec"]["leaseTransitions"] == 0


def test_lease_times_are_microtime_as_the_api_server_parses_them() -> None:
    kube, clock = FakeKube(), Clock()
    attempt(elector(kube, "a", clock))
    spec = kube.find("Lease", NS, NAME)["spec"]
    for stamp in (spec["acquireTime"], spec["renewTime"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp), stamp


def test_a_silent_leader_is_replaced_after_the_duration_the_standby_observed() -> None:
    kube, clock = FakeKube(), Clock()
    a, b = elector(kube, "a", clock), elector(kube, "b", clock)
    attempt(a)
    assert not attempt(b)  # b first sees a's renewal now
    clock.now += 9.9
    assert not attempt(b)
    clock.now += 0.1
    assert attempt(b) and holder(kube) == "b"
    assert kube.find("Lease", NS, NAME)["spec"]["leaseTransitions"] == 1
    assert not attempt(a), "the old leader must see it lost the lease"


def test_a_clean_stop_hands_over_at_the_standbys_next_attempt() -> None:
    kube, clock = FakeKube(), Clock()
    a, b = elector(kube, "a", clock), elector(kube, "b", clock)
    attempt(a)
    assert not attempt(b)
    asyncio.run(a.release())
    assert holder(kube) is None
    assert attempt(b) and holder(kube) == "b"


def test_a_leader_that_cannot_renew_stops_before_the_lease_could_expire() -> None:
    kube, clock = FakeKube(), Clock()
    a = elector(kube, "a", clock)
    attempt(a)
    kube.fail("get", "Lease", 503, "the API server is unavailable", times=10)
    clock.now += 2
    assert attempt(a), "one failed renewal is within the deadline"
    clock.now += 5  # 7 s since the last renewal: the renew deadline (duration is 10 s)
    assert not attempt(a)


class StaleReads:
    """Answers GETs with a copy taken earlier: a candidate that read before another wrote."""

    def __init__(self, kube: FakeKube) -> None:
        self.kube, self.snapshot = kube, copy.deepcopy(kube.find("Lease", NS, NAME))

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return copy.deepcopy(self.snapshot)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kube, name)


def test_of_two_candidates_writing_on_the_same_read_only_one_leads() -> None:
    kube, clock = FakeKube(), Clock()
    a = elector(kube, "a", clock)
    attempt(a)
    asyncio.run(a.release())  # free; now b and c race for it
    stale = StaleReads(kube)
    b, c = elector(kube, "b", clock), elector(stale, "c", clock)
    assert attempt(b)
    assert not attempt(c), "c wrote with the resourceVersion it read before b's write"
    assert holder(kube) == "b"
