"""What must hold after any fault clears: exactly the seats a course asks for, each child
belonging to the seat of its name, no Secret changed, no home lost. Read from the API."""

from __future__ import annotations

from dataclasses import dataclass

from tests.cluster.operator_helpers import Namespace, Obj, controller_uid, fingerprint

SEAT_CHILDREN = ("Pod", "Service", "Secret")


def objects(ns: Namespace) -> dict[str, dict[str, Obj]]:
    return {"Seat": ns.seats(), "Pod": ns.pods(), "Service": ns.services(),
            "Secret": ns.secrets(), "PersistentVolumeClaim": ns.claims()}


def seat_names(course: str, count: int) -> set[str]:
    return {f"{course}-seat-{i:03d}" for i in range(1, count + 1)}


@dataclass(frozen=True)
class Snapshot:
    """What existed before a fault: Secrets by content digest, Seats and homes by uid."""

    credentials: dict[str, str]
    seat_uids: dict[str, str]
    home_uids: dict[str, str]

    @classmethod
    def of(cls, ns: Namespace) -> Snapshot:
        found = objects(ns)
        return cls({n: fingerprint(s) for n, s in found["Secret"].items()},
                   {n: s["metadata"]["uid"] for n, s in found["Seat"].items()},
                   {n: c["metadata"]["uid"] for n, c in found["PersistentVolumeClaim"].items()})


def assert_exactly(ns: Namespace, course: str, count: int, before: Snapshot) -> None:
    """``count`` seats of ``course`` and nothing else; what survived is what was there."""
    after = objects(ns)
    expected = seat_names(course, count)
    for kind in ("Seat", "Pod", "Service"):
        extra, missing = set(after[kind]) - expected, expected - set(after[kind])
        assert not extra and not missing, (
            f"{kind}: extra {sorted(extra)}, missing {sorted(missing)}")
    assert set(after["Secret"]) == expected | {f"{course}-instructor"}
    for name, seat in after["Seat"].items():
        uid = seat["metadata"]["uid"]
        if name in before.seat_uids:
            assert before.seat_uids[name] == uid, f"seat {name} was made anew"
        for kind in SEAT_CHILDREN:
            assert controller_uid(after[kind][name]) == uid, f"{kind} {name} is not its seat's"
    changed = [n for n, digest in before.credentials.items()
               if n in after["Secret"] and fingerprint(after["Secret"][n]) != digest]
    assert not changed, f"Secrets changed by the fault: {changed}"
    homes = {n: c["metadata"]["uid"] for n, c in after["PersistentVolumeClaim"].items()}
    lost = [n for n, uid in before.home_uids.items() if homes.get(n) != uid]
    assert not lost, f"homes lost: {lost}"
    assert {f"{n}-home" for n in expected} <= set(homes)
