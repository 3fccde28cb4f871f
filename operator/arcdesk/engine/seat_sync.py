"""Reconcile one Seat: Secret and home PVC always, Service and Pod while the desktop
should run; then the Seat's status. Decisions are seat_logic's, writes go through
writes.ensure; this module sequences them.

A reconcile is a :class:`SeatWork` (what it reads, fixed at the start) and its
:class:`Findings` (what it learns while writing); each step is a function of the two.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from datetime import datetime

from arcdesk.api import conditions, credentials, labels, naming
from arcdesk.api.model import Course, Profile, Trainee
from arcdesk.api.schedule import Plan, plan
from arcdesk.api.views import ObjectView, SeatView
from arcdesk.build import desired
from arcdesk.build.desired import Owner
from arcdesk.engine import writes
from arcdesk.engine.course_logic import seat_owner
from arcdesk.engine.seat_logic import (
    Action,
    Observed,
    Problem,
    RunDecision,
    child_action,
    decide_run,
    desktop_pod,
    home_storage_problem,
    home_wait,
    object_age,
    pod_action,
    seat_status,
    transition_events,
)
from arcdesk.engine.state import Context, Outcome
from arcdesk.engine.writes import CLEANUP_RECHECK, Manifest, metadata_only

STARTING_GRACE = 2.0  # seconds a new seat may start before "Starting" is written
SCHEDULING_GRACE = 10.0  # seconds a pod may be unschedulable before the seat says so


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
    return await run(SeatWork.start(ctx, seat, course, trainee, profile), Findings())


@dataclass(frozen=True)
class SeatWork:
    """What one reconcile of a seat reads; fixed when it starts."""

    ctx: Context
    seat: SeatView
    course: Course
    trainee: Trainee
    profile: Profile | None
    now: datetime
    plan: Plan
    owner: Owner
    requests: frozenset[str]  # request annotations not yet acted on
    status: dict[str, object]  # the seat's status, with our own latest write over it

    @classmethod
    def start(cls, ctx: Context, seat: SeatView, course: Course, trainee: Trainee,
              profile: Profile | None) -> SeatWork:
        now = ctx.clock()
        status = {**seat.status, **ctx.previous_status(
            "Seat", seat.namespace, seat.name, seat.status)}
        return cls(ctx, seat, course, trainee, profile, now, plan(course, now),
                   seat_owner(seat.name, seat.uid), pending_requests(ctx, seat), status)

    def view(self, kind: str, name: str) -> ObjectView | None:
        return self.ctx.child(kind, self.seat.namespace, name)

    @property
    def start_requested(self) -> bool:
        return labels.START_REQUESTED in self.requests


@dataclass
class Findings:
    """What a reconcile learns while it writes."""

    problems: list[Problem] = field(default_factory=list)
    waiting: bool = False  # something is being deleted or replaced: look again shortly
    started: bool = False  # a desktop pod was created (or asked for) just now
    recheck: float | None = None  # look again then, even without a watch event
    events: list[tuple[str, str, str]] = field(default_factory=list)  # type, reason, message

    def note(self, written: writes.Written) -> bool:
        if written.problem is not None:
            self.problems.append(written.problem)
        self.waiting |= written.waiting
        return written.exists

    def look_again(self, seconds: float) -> None:
        self.recheck = seconds if self.recheck is None else min(self.recheck, seconds)


def pending_requests(ctx: Context, seat: SeatView) -> frozenset[str]:
    """Request annotations not yet acted on. The index may still show a request we have
    just handled (its removal not yet seen): acting twice would reissue twice."""
    pending = set()
    for annotation in (labels.START_REQUESTED, labels.REISSUE_REQUESTED):
        key = (seat.namespace, seat.name, annotation)
        value = seat.annotations.get(annotation)
        if value is None:
            ctx.acted_requests.pop(key, None)
        elif ctx.acted_requests.get(key) != value:
            pending.add(annotation)
    return frozenset(pending)


async def run(work: SeatWork, found: Findings) -> Outcome:
    secret_ok, claim_ok = await asyncio.gather(ensure_secret(work, found),
                                               ensure_claim(work, found))
    pod = work.view("Pod", work.seat.name)
    decision = decide_run(work.seat.state, work.status, work.course, work.plan, pod,
                          work.now, start_requested=work.start_requested)
    update_pending = False
    if decision.run:
        update_pending = await start_desktop(work, found, pod)
        found.started |= work.start_requested  # a start request is activity too
    else:
        await stop_desktop(work, pod)
    await acknowledge(work, found, decision)
    observed = Observed(
        decision=decision, pod=pod, prepared=secret_ok and claim_ok,
        problem=first_problem(work, found, pod, decision), update_pending=update_pending,
        waiting=found.waiting, started=found.started, starts_at=work.plan.next_transition,
        idle_timeout=work.course.idle_timeout)
    quiet = await publish(work, found, observed)
    requeue = [t for t in (decision.requeue_after, found.recheck,
                           CLEANUP_RECHECK if found.waiting else None,
                           STARTING_GRACE if quiet else None) if t is not None]
    return Outcome(requeue_after=min(requeue) if requeue else None,
                   failed=any(p.retry for p in found.problems))


def first_problem(work: SeatWork, found: Findings, pod: ObjectView | None,
                  decision: RunDecision) -> Problem | None:
    if found.problems:
        return found.problems[0]
    running = pod is not None and pod.pod is not None and pod.pod.ready
    if decision.run and work.profile is None and not running:
        return Problem(conditions.PROFILE_NOT_FOUND,
                       f"DesktopProfile {work.course.profile!r} not found", retry=False)
    if decision.run:
        storage, recheck = home_storage(work)
        if recheck is not None:
            found.look_again(recheck)
        if storage is not None:
            return storage  # before the pod's Unschedulable, which only says "unbound"
    if decision.run and pod is not None and pod.pod is not None and pod.pod.problem:
        age = object_age(pod, work.now)
        if pod.pod.problem == conditions.UNSCHEDULABLE and age < SCHEDULING_GRACE:
            found.look_again(SCHEDULING_GRACE - age)  # e.g. its home is being bound now
            return None
        return Problem(pod.pod.problem, pod.pod.detail, retry=False)
    return None


async def ensure(work: SeatWork, found: Findings, want: Manifest, view: ObjectView | None,
                 action: Action, update: Manifest | None = None) -> bool:
    """Carry out ``action`` for ``want``; True if the object exists afterwards."""
    return found.note(await writes.ensure(work.ctx, want, view, action, work.owner, update))


async def ensure_secret(work: SeatWork, found: Findings) -> bool:
    view = work.view("Secret", work.seat.name)
    generation = int(view.annotations.get(labels.SECRET_GENERATION, "1")) if view else 1
    creds = credentials.new_seat_credentials() if view is None else credentials.REDACTED
    want = desired.secret(work.course, work.trainee, creds, work.owner, generation)
    action = child_action(want, view, work.owner)
    if view is not None and action in (Action.KEEP, Action.UPDATE):
        renewed = await repair_or_reissue(work, found, view, generation)
        if renewed != generation:  # keep the metadata apply from undoing the bump
            want = desired.secret(work.course, work.trainee, creds, work.owner, renewed)
    return await ensure(work, found, want, view, action, metadata_only(want))


async def repair_or_reissue(work: SeatWork, found: Findings, view: ObjectView,
                            generation: int) -> int:
    """New values on request, or for keys someone deleted; never otherwise.
    Returns the Secret's generation afterwards."""
    reissue = labels.REISSUE_REQUESTED in work.requests
    values = credentials.new_seat_credentials().as_secret_data()
    keys = set(values) if reissue else set(values) - set(view.keys)
    if not keys:
        return generation
    patch = {"metadata": {"annotations": {labels.SECRET_GENERATION: str(generation + 1)}},
             "data": {k: base64.b64encode(values[k].encode()).decode() for k in sorted(keys)}}
    await work.ctx.kube.merge_patch("Secret", work.seat.namespace, view.name, patch)
    what = "new link and passwords issued" if reissue else "missing credentials restored"
    found.events.append(("Normal", "CredentialsReissued",
                         f"{what} (generation {generation + 1})"))
    return generation + 1


async def ensure_claim(work: SeatWork, found: Findings) -> bool:
    name = naming.home_claim_name(work.course.name, work.trainee.id)
    view = work.view("PersistentVolumeClaim", name)
    want = desired.home_claim(work.course, work.trainee, work.owner)
    action = child_action(want, view, work.owner)
    if action is Action.UPDATE and view is not None and view.controller is not None \
            and "ownerReferences" not in want["metadata"]:
        # reclaimPolicy became Retain: drop the owner so deleting the seat keeps the home.
        await work.ctx.kube.merge_patch("PersistentVolumeClaim", work.seat.namespace, name,
                                        {"metadata": {"ownerReferences": None}})
    return await ensure(work, found, want, view, action, metadata_only(want))


async def start_desktop(work: SeatWork, found: Findings, pod: ObjectView | None) -> bool:
    """Ensure Service and Pod; True when a newer pod spec waits for the next start."""
    service = desired.service(work.course, work.trainee, work.owner)
    service_view = work.view("Service", work.seat.name)
    service_action = child_action(service, service_view, work.owner, compare_spec=True)
    if work.profile is None:
        await ensure(work, found, service, service_view, service_action)
        return False
    want = work.ctx.models.renders.get(desktop_pod, work.course, work.profile, work.trainee,
                                       work.owner)
    action, pending, want = pod_action(want, pod, work.owner)
    hold = home_hold(work) if action is Action.CREATE else None
    if hold is not None:
        found.look_again(hold)
        await ensure(work, found, service, service_view, service_action)
        return pending
    _, exists = await asyncio.gather(
        ensure(work, found, service, service_view, service_action),
        ensure(work, found, want, pod, action, metadata_only(want)))
    found.started = action is Action.CREATE and exists and not found.waiting
    return pending


def home_claim(work: SeatWork) -> tuple[ObjectView | None, str | None]:
    """The seat's home claim (as indexed) and its StorageClass's binding mode (None: the
    claim names no class, or one the cluster does not have)."""
    claim = work.view("PersistentVolumeClaim",
                      naming.home_claim_name(work.course.name, work.trainee.id))
    storage_class = claim.claim.storage_class if claim and claim.claim else ""
    return claim, work.ctx.caches.binding_mode(storage_class) if storage_class else None


def home_hold(work: SeatWork) -> float | None:
    """Seconds to hold a new desktop pod back for its home to be bound (home_wait)."""
    return home_wait(*home_claim(work), work.now)


def home_storage(work: SeatWork) -> tuple[Problem | None, float | None]:
    """A home that will not be bound (home_storage_problem), and when to look again."""
    claim, mode = home_claim(work)
    return home_storage_problem(claim, mode, work.ctx.caches.has_default_class(), work.now)


async def stop_desktop(work: SeatWork, pod: ObjectView | None) -> None:
    """Delete the desktop pod and its Service (ours only); home and Secret stay."""
    service = work.view("Service", work.seat.name)
    for view in (pod, service):
        if view is not None and not view.deleting and view.controller is not None \
                and view.controller.uid == work.seat.uid:
            await work.ctx.kube.delete(view.kind, view.namespace, view.name, view.uid)
            work.ctx.forget_created(view.kind, view.namespace, view.name)


async def acknowledge(work: SeatWork, found: Findings, decision: RunDecision) -> None:
    """Remove request annotations once acted on, so they can be set again."""
    if not work.requests:
        return
    seat = work.seat
    patch = {"metadata": {"annotations": dict.fromkeys(sorted(work.requests))}}
    await work.ctx.kube.merge_patch("Seat", seat.namespace, seat.name, patch)
    for annotation in work.requests:
        key = (seat.namespace, seat.name, annotation)
        work.ctx.acted_requests[key] = seat.annotations[annotation]
    if work.start_requested and work.status.get("idleStopped") and decision.run:
        found.events.append(("Normal", "Started", "desktop started on request"))


async def publish(work: SeatWork, found: Findings, observed: Observed) -> bool:
    """Write the status if it changed; True when a brand-new seat's "Starting" was
    held back (its desktop is likely Running before anyone looks: one write, not two)."""
    seat, before = work.seat, work.status
    status = seat_status(observed, seat.generation, work.now, before)
    young = observed.pod is None or object_age(observed.pod, work.now) < STARTING_GRACE
    if status["phase"] == "Starting" and not before.get("phase") and young:
        return True
    if any(before.get(k) != v for k, v in status.items()):
        await work.ctx.kube.merge_patch("Seat", seat.namespace, seat.name,
                                        {"status": status}, subresource="status")
        work.ctx.remember_status("Seat", seat.namespace, seat.name, status)
    involved = {"apiVersion": labels.API_VERSION, "kind": "Seat", "name": seat.name,
                "namespace": seat.namespace, "uid": seat.uid}
    for type_, reason, message in [*found.events,
                                   *transition_events(before, status, observed)]:
        await work.ctx.kube.record_event(involved, type_, reason, message)
    return False
