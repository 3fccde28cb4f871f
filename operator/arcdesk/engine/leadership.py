"""Leader election on a coordination.k8s.io Lease, so several operator replicas can run and
exactly one reconciles: the others watch (their indexes stay warm) and wait.

The rules are client-go's: a candidate takes the Lease when it is free, or when the holder
has not renewed it for ``duration`` seconds *as this candidate observed it* (the lease's
resourceVersion unchanged on its own monotonic clock, never the holder's timestamps, so
clock skew between nodes does not matter). Every write carries the resourceVersion it
read: of two candidates only one wins.
The leader renews every ``retry`` seconds and gives up once it could not renew for
``renew_deadline`` (< ``duration``, so it stops before anyone else may start). Stopping
releases the Lease, so a rollout or a drained node hands over within one ``retry``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from arcdesk.kube.errors import ApiError

logger = logging.getLogger(__name__)
Body = dict[str, Any]


class LeaseClient(Protocol):
    async def get(self, kind: str, namespace: str | None, name: str,
                  required: bool = False) -> Body | None: ...

    async def create(self, manifest: Body) -> Body: ...

    async def merge_patch(self, kind: str, namespace: str | None, name: str, patch: Body,
                          subresource: str | None = None) -> Body | None: ...


@dataclass(frozen=True)
class LeaseSettings:
    namespace: str
    name: str
    identity: str
    duration: float = 10.0  # seconds a silent holder keeps the lease
    renew_deadline: float = 7.0  # the leader stops when it could not renew for this long
    retry: float = 2.0  # seconds between attempts (and renewals)


@dataclass(frozen=True)
class Seen:
    """The holder and the lease's resourceVersion last read (every renewal changes it), and
    when (monotonic) that pair first appeared."""

    holder: str
    version: str
    since: float


def observe(previous: Seen | None, lease: Mapping[str, Any], now: float) -> Seen:
    holder = str((lease.get("spec") or {}).get("holderIdentity") or "")
    version = str((lease.get("metadata") or {}).get("resourceVersion") or "")
    if previous is not None and (previous.holder, previous.version) == (holder, version):
        return previous
    return Seen(holder, version, now)


def may_take(seen: Seen, identity: str, duration: float, now: float) -> bool:
    """Whether ``identity`` may write itself into the lease: it is free, ours, or its holder
    has been silent for ``duration`` seconds."""
    return not seen.holder or seen.holder == identity or now >= seen.since + duration


def micro_time(moment: datetime) -> str:
    """A Lease's timestamps are MicroTime: RFC 3339 with exactly six fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def claimed(spec: Mapping[str, Any], settings: LeaseSettings, wall: datetime) -> Body:
    """The lease spec with ``settings.identity`` holding it, renewed at ``wall`` (a new lease,
    from an empty ``spec``, starts at 0 transitions)."""
    stamp = micro_time(wall)
    ours = spec.get("holderIdentity") == settings.identity
    return {
        "holderIdentity": settings.identity,
        "leaseDurationSeconds": max(1, round(settings.duration)),
        "acquireTime": spec.get("acquireTime") if ours else stamp,
        "renewTime": stamp,
        "leaseTransitions": int(spec.get("leaseTransitions") or 0) + (0 if ours or not spec
                                                                       else 1),
    }


class Elector:
    """Acquire, hold and release one Lease; ``is_leader`` says which it is right now."""

    def __init__(self, kube: LeaseClient, settings: LeaseSettings,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.kube, self.settings, self.clock, self.wall = kube, settings, clock, wall
        self.is_leader = False
        self._seen: Seen | None = None
        self._renewed_at = 0.0
        self._last_error = ""  # a failure repeating every attempt is logged once

    async def try_once(self) -> bool:
        """One attempt to acquire or renew; True while this candidate leads."""
        try:
            self.is_leader = await self._attempt()
        except ApiError as error:
            if error.status != 409 and str(error) != self._last_error:  # 409: lost a race
                logger.warning("lease %s/%s: %s", self.settings.namespace, self.settings.name,
                               error)
            self._last_error = str(error)
            self.is_leader = self.is_leader and not self.deadline_passed()
            return self.is_leader
        self._last_error = ""
        if self.is_leader:
            self._renewed_at = self.clock()
        return self.is_leader

    def deadline_passed(self) -> bool:
        return self.clock() - self._renewed_at >= self.settings.renew_deadline

    async def _attempt(self) -> bool:
        s = self.settings
        lease = await self.kube.get("Lease", s.namespace, s.name)
        if lease is None:
            await self.kube.create({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": s.name, "namespace": s.namespace},
                "spec": claimed({}, s, self.wall())})
            return True
        spec = lease.get("spec") or {}
        self._seen = observe(self._seen, lease, self.clock())
        if not may_take(self._seen, s.identity, s.duration, self.clock()):
            return False
        patched = await self.kube.merge_patch("Lease", s.namespace, s.name, {
            "metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]},
            "spec": claimed(spec, s, self.wall())})
        return patched is not None  # None: deleted meanwhile; the next attempt creates it

    async def release(self) -> None:
        """Give the lease up (only if we still hold it), so a standby takes over at once."""
        if not self.is_leader:
            return
        self.is_leader = False
        s = self.settings
        try:
            lease = await self.kube.get("Lease", s.namespace, s.name)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == s.identity:
                await self.kube.merge_patch("Lease", s.namespace, s.name, {
                    "metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]},
                    "spec": {"holderIdentity": None, "leaseDurationSeconds": 1}})
        except ApiError as error:
            logger.warning("releasing lease %s/%s: %s", s.namespace, s.name, error)

    async def hold(self, lead: Callable[[], None], follow: Callable[[], None]) -> None:
        """Forever: call ``lead()`` on acquiring the lease and ``follow()`` on losing it."""
        leading = False
        while True:
            now_leading = await self.try_once()
            if now_leading != leading:
                logger.info("lease %s/%s: %s", self.settings.namespace, self.settings.name,
                            "acquired, reconciling" if now_leading else "lost, standing by")
                (lead if now_leading else follow)()
                leading = now_leading
            await asyncio.sleep(self.settings.retry)
