"""Reconcile one Seat: Secret and home PVC always, Service and Pod while the desktop
should run; then the Seat's status. Decisions are seat_logic's; this module does the I/O.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arcdesk.api import conditions, credentials, labels, naming
from arcdesk.api.model import Course, Profile, Trainee, parse_time
from arcdesk.api.schedule import Plan, plan
from arcdesk.api.views import ObjectView, SeatView, object_view
from arcdesk.build import desired
from arcdesk.engine.course_logic import seat_owner
from arcdesk.engine.seat_logic import (
    Action,
    Observed,
    Problem,
    RunDecision,
    child_action,
    decide_run,
    desktop_pod,
    home_wait,
    name_conflict,
    pod_action,
    seat_status,
)
from arcdesk.engine.state import Context
from arcdesk.kube import ApiError

logger = logging.getLogger(__name__)
Manifest = dict[str, Any]
CLEANUP_RECHECK = 2.0  # seconds; the DELETED watch event usually comes first
STARTING_GRACE = 2.0  # seconds a new seat may start before "Starting" is written
SCHEDULING_GRACE = 10.0  # seconds a pod may be unschedulable before the seat says so


@dataclass(frozen=True)
class Outcome:
    requeue_after: float | None = None
    failed: bool = False  # back off before the next try
    follow_up: tuple[tuple[str, str, str], ...] = ()  # more keys to reconcile


def problem_from(error: ApiError, kind: str, name: str) -> Problem:
    """A user-facing problem for a refused write; quota gets its own reason. A transient
    server error (5xx, 429) is raised again instead: the reconcile is retried with backoff
    and nobody is shown a condition for a hiccup."""
    if error.transient:
        raise error
    if error.quota_exceeded:
        return Problem(conditions.QUOTA_EXCEEDED, error.message)
    return Problem(conditions.API_ERROR, f"{kind} {name}: {error.status} {error.message}")


def metadata_only(manifest: Manifest) -> Manifest:
    """Apply configuration for an object whose spec or data we must not touch."""
    return {"apiVersion": manifest["apiVersion"], "kind": manifest["kind"],
            "metadata": manifest["metadata"]}


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


async def reconcile_seat(ctx: Context, namespace: str, name: str) -> Outcome:
    seat = ctx.caches.seat(namespace, name)
    if seat is None or seat.deleting:
        ctx.forget("Seat", namespace, name)
        return Outcome()
    course_view = ctx.caches.course(namespace, seat.course)
    owner = seat.controller
    if course_view is None or course_view.deleting or owner is None \
            or owner.uid != course_view.uid:
        return Outcome()  # not ours, or about to be garbage collected
    course = ctx.models.course(course_view)
    trainee = next((t for t in course.trainees if t.id == seat.seat_id), None)
    if trainee is None:
        return Outcome()  # left the roster: the course reconcile deletes this Seat
    profile = ctx.models.profile(ctx.caches.profile(course.profile))
    return await SeatReconcile(ctx, seat, course, trainee, profile).run()


class SeatReconcile:
    def __init__(self, ctx: Context, seat: SeatView, course: Course, trainee: Trainee,
                 profile: Profile | None) -> None:
        self.ctx, self.seat, self.course, self.trainee, self.profile = \
            ctx, seat, course, trainee, profile
        self.now: datetime = ctx.clock()
        self.plan: Plan = plan(course, self.now)
        self.owner = seat_owner(seat.name, seat.uid)
        self.problems: list[Problem] = []
        self.waiting = False
        self.events: list[tuple[str, str, str]] = []  # (type, reason, message)
        self.requests = self._pending_requests()
        # Our own latest write counts even if the index has not caught up with it yet.
        self.status = {**seat.status, **ctx.previous_status(
            "Seat", seat.namespace, seat.name, seat.status)}
        self.started = False
        self.recheck: float | None = None  # look again then, even without a watch event

    def _pending_requests(self) -> set[str]:
        """Request annotations not yet acted on. The index may still show a request we have
        just handled (its removal not yet seen): acting twice would reissue twice."""
        acted, pending = self.ctx.acted_requests, set()
        for annotation in (labels.START_REQUESTED, labels.REISSUE_REQUESTED):
            key = (self.seat.namespace, self.seat.name, annotation)
            value = self.seat.annotations.get(annotation)
            if value is None:
                acted.pop(key, None)
            elif acted.get(key) != value:
                pending.add(annotation)
        return pending

    def _view(self, kind: str, name: str) -> ObjectView | None:
        return self.ctx.child(kind, self.seat.namespace, name)

    async def run(self) -> Outcome:
        secret_ok, claim_ok = await asyncio.gather(self._secret(), self._claim())
        pod = self._view("Pod", self.seat.name)
        decision = decide_run(self.seat.state, self.status, self.course, self.plan, pod,
                              self.now, start_requested=labels.START_REQUESTED in self.requests)
        update_pending = False
        if decision.run:
            update_pending = await self._start(pod)
            # A start request is activity too: a trainee just opened the link.
            self.started |= labels.START_REQUESTED in self.requests
        else:
            await self._stop(pod)
        await self._acknowledge(decision)
        observed = Observed(
            decision=decision, pod=pod, prepared=secret_ok and claim_ok,
            problem=self._problem(pod, decision), update_pending=update_pending,
            waiting=self.waiting, started=self.started, starts_at=self.plan.next_transition,
            idle_timeout=self.course.idle_timeout)
        quiet = await self._publish(observed)
        requeue = [t for t in (decision.requeue_after, self.recheck,
                               CLEANUP_RECHECK if self.waiting else None,
                               STARTING_GRACE if quiet else None) if t is not None]
        return Outcome(requeue_after=min(requeue) if requeue else None,
                       failed=any(p.retry for p in self.problems))

    def _problem(self, pod: ObjectView | None, decision: RunDecision) -> Problem | None:
        if self.problems:
            return self.problems[0]
        running = pod is not None and pod.pod is not None and pod.pod.ready
        if decision.run and self.profile is None and not running:
            return Problem(conditions.PROFILE_NOT_FOUND,
                           f"DesktopProfile {self.course.profile!r} not found", retry=False)
        if decision.run and pod is not None and pod.pod is not None and pod.pod.problem:
            age = self._age(pod)
            if pod.pod.problem == conditions.UNSCHEDULABLE and age < SCHEDULING_GRACE:
                self.recheck = SCHEDULING_GRACE - age  # e.g. its home is being bound now
                return None
            return Problem(pod.pod.problem, pod.pod.detail, retry=False)
        return None

    async def _ensure(self, want: Manifest, view: ObjectView | None, action: Action,
                      update: Manifest | None = None) -> bool:
        """Carry out ``action`` for ``want``; True if the object exists afterwards."""
        kind, name = want["kind"], want["metadata"]["name"]
        try:
            if action is Action.CREATE:
                return await self._create(want)
            if action is Action.UPDATE:
                await self.ctx.kube.apply(update or want)
            elif action is Action.RECREATE and view is not None:
                await self.ctx.kube.delete(kind, self.seat.namespace, name, view.uid)
                self.ctx.forget_created(kind, self.seat.namespace, name)
                self.waiting = True
                return False
        except ApiError as error:
            self.problems.append(problem_from(error, kind, name))
            return view is not None
        return self._settle(action, kind, name)

    def _settle(self, action: Action, kind: str, name: str) -> bool:
        if action is Action.CONFLICT:
            self.problems.append(name_conflict(kind, name, "Seat"))
            return False
        if action is Action.WAIT:
            self.waiting = True
            return False
        return True

    async def _create(self, want: Manifest) -> bool:
        kind, name = want["kind"], want["metadata"]["name"]
        try:
            self.ctx.remember_created(await self.ctx.kube.create(want))
            return True
        except ApiError as error:
            if error.status != 409:
                raise
        # The name is taken: ours (the index has not caught up) or someone else's.
        found = await self.ctx.kube.get(kind, self.seat.namespace, name)
        if found is None:
            self.waiting = True  # deleted meanwhile; try again shortly
            return False
        self.ctx.remember_created(found)
        action = child_action(want, object_view(found), self.owner)
        return self._settle(action, kind, name)

    async def _secret(self) -> bool:
        view = self._view("Secret", self.seat.name)
        generation = int(view.annotations.get(labels.SECRET_GENERATION, "1")) if view else 1
        creds = credentials.new_seat_credentials() if view is None else credentials.REDACTED
        want = desired.secret(self.course, self.trainee, creds, self.owner, generation)
        action = child_action(want, view, self.owner)
        if view is not None and action in (Action.KEEP, Action.UPDATE):
            renewed = await self._repair_or_reissue(view, generation)
            if renewed != generation:  # keep the metadata apply from undoing the bump
                want = desired.secret(self.course, self.trainee, creds, self.owner, renewed)
        return await self._ensure(want, view, action, metadata_only(want))

    async def _repair_or_reissue(self, view: ObjectView, generation: int) -> int:
        """New values on request, or for keys someone deleted; never otherwise.
        Returns the Secret's generation afterwards."""
        reissue = labels.REISSUE_REQUESTED in self.requests
        values = credentials.new_seat_credentials().as_secret_data()
        keys = set(values) if reissue else set(values) - set(view.keys)
        if not keys:
            return generation
        patch = {"metadata": {"annotations": {labels.SECRET_GENERATION: str(generation + 1)}},
                 "data": {k: _b64(values[k]) for k in sorted(keys)}}
        await self.ctx.kube.merge_patch("Secret", self.seat.namespace, view.name, patch)
        what = "new link and passwords issued" if reissue else "missing credentials restored"
        self.events.append(("Normal", "CredentialsReissued",
                            f"{what} (generation {generation + 1})"))
        return generation + 1

    async def _claim(self) -> bool:
        name = naming.home_claim_name(self.course.name, self.trainee.id)
        view = self._view("PersistentVolumeClaim", name)
        want = desired.home_claim(self.course, self.trainee, self.owner)
        action = child_action(want, view, self.owner)
        if action is Action.UPDATE and view is not None and view.controller is not None \
                and "ownerReferences" not in want["metadata"]:
            # reclaimPolicy became Retain: drop the owner so deleting the seat keeps the home.
            await self.ctx.kube.merge_patch("PersistentVolumeClaim", self.seat.namespace, name,
                                            {"metadata": {"ownerReferences": None}})
        return await self._ensure(want, view, action, metadata_only(want))

    async def _start(self, pod: ObjectView | None) -> bool:
        """Ensure Service and Pod; True when a newer pod spec waits for the next start."""
        service = desired.service(self.course, self.trainee, self.owner)
        service_view = self._view("Service", self.seat.name)
        service_action = child_action(service, service_view, self.owner, compare_spec=True)
        if self.profile is None:
            await self._ensure(service, service_view, service_action)
            return False
        want = self.ctx.models.renders.get(desktop_pod, self.course, self.profile,
                                           self.trainee, self.owner)
        action, pending, want = pod_action(want, pod, self.owner)
        hold = self._home_wait() if action is Action.CREATE else None
        if hold is not None:
            self.recheck = hold if self.recheck is None else min(self.recheck, hold)
            await self._ensure(service, service_view, service_action)
            return pending
        _, exists = await asyncio.gather(self._ensure(service, service_view, service_action),
                                         self._ensure(want, pod, action, metadata_only(want)))
        self.started = action is Action.CREATE and exists and not self.waiting
        return pending

    def _home_wait(self) -> float | None:
        claim = self._view("PersistentVolumeClaim",
                           naming.home_claim_name(self.course.name, self.trainee.id))
        storage_class = claim.claim.storage_class if claim and claim.claim else ""
        mode = self.ctx.caches.binding_mode(storage_class) if storage_class else None
        return home_wait(claim, mode, self.now)

    async def _stop(self, pod: ObjectView | None) -> None:
        """Delete the desktop pod and its Service (ours only); home and Secret stay."""
        service = self._view("Service", self.seat.name)
        for view in (pod, service):
            if view is not None and not view.deleting and view.controller is not None \
                    and view.controller.uid == self.seat.uid:
                await self.ctx.kube.delete(view.kind, view.namespace, view.name, view.uid)
                self.ctx.forget_created(view.kind, view.namespace, view.name)

    async def _acknowledge(self, decision: RunDecision) -> None:
        """Remove request annotations once acted on, so they can be set again."""
        if not self.requests:
            return
        patch = {"metadata": {"annotations": dict.fromkeys(sorted(self.requests))}}
        await self.ctx.kube.merge_patch("Seat", self.seat.namespace, self.seat.name, patch)
        for annotation in self.requests:
            key = (self.seat.namespace, self.seat.name, annotation)
            self.ctx.acted_requests[key] = self.seat.annotations[annotation]
        if labels.START_REQUESTED in self.requests and self.status.get("idleStopped") \
                and decision.run:
            self.events.append(("Normal", "Started", "desktop started on request"))

    async def _publish(self, observed: Observed) -> bool:
        """Write the status if it changed; True when a brand-new seat's "Starting" was
        held back (its desktop is likely Running before anyone looks: one write, not two).
        """
        seat, before = self.seat, self.status
        status = seat_status(observed, seat.generation, self.now, before)
        if status["phase"] == "Starting" and not before.get("phase") \
                and self._young(observed.pod):
            return True
        if any(before.get(k) != v for k, v in status.items()):
            await self.ctx.kube.merge_patch("Seat", seat.namespace, seat.name,
                                            {"status": status}, subresource="status")
            self.ctx.remember_status("Seat", seat.namespace, seat.name, status)
        self._transition_events(before, status, observed)
        for type_, reason, message in self.events:
            await self.ctx.kube.record_event(self._involved(), type_, reason, message)
        return False

    def _young(self, pod: ObjectView | None) -> bool:
        return pod is None or self._age(pod) < STARTING_GRACE

    def _age(self, pod: ObjectView) -> float:
        return (self.now - parse_time(pod.created)).total_seconds() if pod.created else 0.0

    def _transition_events(self, before: Mapping[str, Any], after: Mapping[str, Any],
                           observed: Observed) -> None:
        if before.get("reason") == after["reason"]:
            return
        if observed.problem is not None:
            self.events.append(("Warning", observed.problem.reason, observed.problem.message))
        elif observed.decision.idle_stop:
            self.events.append(("Normal", "IdleStopped", str(after["message"])))

    def _involved(self) -> dict[str, str]:
        return {"apiVersion": labels.API_VERSION, "kind": "Seat", "name": self.seat.name,
                "namespace": self.seat.namespace, "uid": self.seat.uid}
