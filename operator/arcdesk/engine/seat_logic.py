"""Pure decisions for one seat: what to do with each child, whether the desktop runs, and
the status a user sees. seat_sync carries them out.
"""

from __future__ import annotations

import copy
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from arcdesk.api import conditions, labels
from arcdesk.api.conditions import Condition
from arcdesk.api.model import Course, Profile, Trainee, format_time, parse_time
from arcdesk.api.schedule import ENDED, SCHEDULED, SUSPENDED, Plan
from arcdesk.api.views import ObjectView, SeatView
from arcdesk.build import desired
from arcdesk.build.desired import Manifest, Owner

# On the Pod: a hash of the spec it was created from (a Pod's spec cannot be updated).
SPEC_HASH = f"{labels.GROUP}/spec-hash"

OURS, STALE, FOREIGN = "ours", "stale", "foreign"
# A pod in these states will not recover by waiting: the seat shows phase Failed.
FAILED_REASONS = frozenset({conditions.IMAGE_PULL_BACK_OFF, conditions.CRASH_LOOP_BACK_OFF,
                            conditions.CONTAINER_ERROR, conditions.DESKTOP_FAILED,
                            conditions.NAME_CONFLICT})
_STOP_REASONS = {SCHEDULED: conditions.SCHEDULED, SUSPENDED: conditions.SUSPENDED,
                 ENDED: conditions.ENDED}


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"  # server-side apply our fields again
    RECREATE = "recreate"  # delete; the next reconcile creates it anew
    KEEP = "keep"
    CONFLICT = "conflict"  # someone else's object has the name
    WAIT = "wait"  # the old object is still being deleted


@dataclass(frozen=True)
class Problem:
    reason: str
    message: str
    retry: bool = True  # retry with backoff; False when a watch event brings the seat back


def name_conflict(kind: str, name: str, owner_kind: str) -> Problem:
    """The one wording of a name taken by an object arcdesk did not make for this owner."""
    return Problem(conditions.NAME_CONFLICT, (
        f"{kind} {name} already exists and is not this {owner_kind.lower()}'s; arcdesk never "
        "takes over objects it did not make: delete or rename it"))


def is_subset(want: Any, have: Any) -> bool:
    """True if every field of ``want`` is in ``have`` with the same value (server defaults
    such as a Service's clusterIP may be extra); lists must match item by item."""
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(
            k in have and is_subset(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return (isinstance(have, list) and len(want) == len(have)
                and all(is_subset(w, h) for w, h in zip(want, have, strict=True)))
    return bool(want == have)


def ownership(view: ObjectView | SeatView, owner: Owner, our_labels: Mapping[str, str]) -> str:
    """OURS, STALE (left over from an earlier owner of the same name, being garbage
    collected) or FOREIGN (never touch it)."""
    controller = view.controller
    if controller is not None:
        if controller.uid == owner.uid:
            return OURS
        same = (controller.api_version, controller.kind, controller.name)
        return STALE if same == (owner.api_version, owner.kind, owner.name) else FOREIGN
    # Ownerless: a kept home (reclaimPolicy Retain), or someone removed the reference.
    written = getattr(view, "ours", False)
    return OURS if written or is_subset(our_labels, view.labels) else FOREIGN


def _controller_uid(manifest: Manifest) -> str | None:
    refs = manifest["metadata"].get("ownerReferences") or ()
    return next((r["uid"] for r in refs if r.get("controller")), None)


def metadata_drift(desired: Manifest, view: ObjectView | SeatView) -> bool:
    meta = desired["metadata"]
    actual = view.controller.uid if view.controller else None
    return (not is_subset(meta.get("labels") or {}, view.labels)
            or not is_subset(meta.get("annotations") or {}, view.annotations)
            or _controller_uid(desired) != actual)


def child_action(desired: Manifest, view: ObjectView | SeatView | None, owner: Owner,
                 compare_spec: bool = False) -> Action:
    """What to do so that ``view`` (None: absent) matches ``desired``."""
    if view is None:
        return Action.CREATE
    if view.deleting:
        return Action.WAIT
    owned = ownership(view, owner, desired["metadata"].get("labels") or {})
    if owned != OURS:
        return Action.CONFLICT if owned == FOREIGN else Action.WAIT
    spec_drift = compare_spec and not is_subset(desired.get("spec") or {}, view.spec)
    return Action.UPDATE if spec_drift or metadata_drift(desired, view) else Action.KEEP


def spec_hash(manifest: Manifest) -> str:
    text = json.dumps(manifest.get("spec"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_spec_hash(manifest: Manifest) -> Manifest:
    manifest["metadata"].setdefault("annotations", {})[SPEC_HASH] = spec_hash(manifest)
    return manifest


def desktop_pod(course: Course, profile: Profile, trainee: Trainee, owner: Owner) -> Manifest:
    """The desktop pod as rendered, with the hash pod_action compares."""
    return with_spec_hash(desired.pod(course, profile, trainee, owner))


def pod_action(desired: Manifest, view: ObjectView | None, owner: Owner,
               ) -> tuple[Action, bool, Manifest]:
    """Action for the desktop pod, whether a newer spec waits for the next start, and the
    manifest to act with.

    A ready desktop is never killed for a spec change (a trainee may be working in it):
    its metadata keeps the old spec hash, so the change stays visible as pending. One that
    is not ready yet, e.g. stuck on a wrong image, is replaced at once.
    """
    action = child_action(desired, view, owner)
    if view is None or action not in (Action.KEEP, Action.UPDATE):
        return action, False, desired
    running_hash = view.annotations.get(SPEC_HASH)
    if running_hash == desired["metadata"]["annotations"][SPEC_HASH]:
        return action, False, desired
    if view.pod is None or not view.pod.ready:
        return Action.RECREATE, False, desired
    kept = copy.deepcopy(desired)
    kept["metadata"]["annotations"][SPEC_HASH] = running_hash or ""
    return child_action(kept, view, owner), True, kept


HOME_BIND_GRACE = 30.0  # seconds a new desktop pod waits for its home to be bound


def home_wait(claim: ObjectView | None, binding_mode: str | None, now: datetime,
              ) -> float | None:
    """Seconds to hold back a new desktop pod for its home; None: create it now.

    The scheduler backs off (up to 10 s) from a pod whose claim is still unbound in an
    Immediate-binding class, so the pod waits for the bind (the claim's watch event brings
    the seat back). WaitForFirstConsumer binds only once a pod uses the claim, and a class
    the operator cannot see is not waited for. After HOME_BIND_GRACE the pod is created
    anyway, so a home that never binds shows up as the scheduler's reason.
    """
    if claim is None:
        return HOME_BIND_GRACE  # created just now, not yet seen
    state = claim.claim
    if state is None or state.phase != "Pending" or binding_mode != "Immediate":
        return None
    age = object_age(claim, now)
    return HOME_BIND_GRACE - age if age < HOME_BIND_GRACE else None


def home_storage_problem(claim: ObjectView | None, binding_mode: str | None,
                         has_default: bool, now: datetime,
                         ) -> tuple[Problem | None, float | None]:
    """Why the home will not be bound, and when to look again (seconds) if it may still be.

    A claim whose StorageClass does not exist, or that names none in a cluster without a
    default class, can still bind to a volume made by hand for it; so it counts as stuck
    only after HOME_BIND_GRACE unbound. Either way the fix is the admin's, named here.
    """
    state = claim.claim if claim is not None else None
    if claim is None or state is None or state.phase != "Pending":
        return None, None
    if state.storage_class and binding_mode is not None:
        return None, None  # a class that exists: its provisioner (or the scheduler) binds
    if not state.storage_class and has_default:
        return None, None  # the default class is assigned to it shortly
    age = object_age(claim, now)
    if age < HOME_BIND_GRACE:
        return None, HOME_BIND_GRACE - age
    unbound = f"home {claim.name} is not bound after {HOME_BIND_GRACE:.0f} s"
    if state.storage_class:
        return Problem(conditions.STORAGE_CLASS_NOT_FOUND, (
            f"{unbound}: storage class {state.storage_class!r} "
            "(spec.storage.storageClassName) does not exist; create it, or re-create the "
            "course with a class `kubectl get storageclass` lists"), retry=False), None
    return Problem(conditions.NO_DEFAULT_STORAGE_CLASS, (
        f"{unbound}: the cluster has no default storage class; set "
        "spec.storage.storageClassName to a class `kubectl get storageclass` lists, or "
        "mark one as the default"), retry=False), None


@dataclass(frozen=True)
class RunDecision:
    run: bool
    why_stopped: str = ""  # a conditions reason: Scheduled, Suspended, Ended, Idle
    idle_stop: bool = False  # stop it now for being idle
    idle_stopped: bool = False  # status.idleStopped to record
    requeue_after: float | None = None  # when the idle deadline passes


def idle_deadline(course: Course, status: Mapping[str, Any], pod: ObjectView | None,
                  ) -> datetime | None:
    """When the running desktop counts as idle: ``idle.timeout`` after its last activity
    (reported by the desktop; the operator sets it when it starts one), or after the
    pod's creation if none was reported; never before the course starts (prewarm)."""
    if course.idle_timeout is None or pod is None or pod.deleting:
        return None
    last = status.get("lastActivity") or pod.created
    if not last:
        return None
    moments = [parse_time(str(last))]
    if course.schedule.start is not None:
        moments.append(course.schedule.start)
    return max(moments) + course.idle_timeout


def decide_run(state: str, status: Mapping[str, Any], course: Course, plan: Plan,
               pod: ObjectView | None, now: datetime, start_requested: bool = False,
               ) -> RunDecision:
    """Should the desktop run now? Course schedule first, then idleness; a start request
    (the gateway's, when a trainee opens the link) wakes an idle-stopped desktop.
    ``state`` is the Seat's spec.state, ``status`` its latest status."""
    if not plan.run:
        return RunDecision(False, _STOP_REASONS.get(plan.stage, conditions.STOPPING))
    if state != "Running":  # the course has not updated this seat yet
        return RunDecision(False, conditions.STOPPING)
    if status.get("idleStopped") and not start_requested:
        return RunDecision(False, conditions.IDLE, idle_stopped=True)
    deadline = None if start_requested else idle_deadline(course, status, pod)
    if deadline is not None and now >= deadline:
        return RunDecision(False, conditions.IDLE, idle_stop=True, idle_stopped=True)
    wait = (deadline - now).total_seconds() if deadline is not None else None
    return RunDecision(True, requeue_after=wait)


@dataclass(frozen=True)
class Observed:
    """What the seat reconcile found and did, as input to the status."""

    decision: RunDecision
    pod: ObjectView | None
    prepared: bool  # Secret and home PVC exist
    problem: Problem | None = None
    update_pending: bool = False
    waiting: bool = False  # an old child is still being deleted
    started: bool = False  # the desktop was (re)started or asked to start just now
    starts_at: datetime | None = None
    idle_timeout: timedelta | None = None


def seat_status(observed: Observed, generation: int, now: datetime,
                previous: Mapping[str, Any]) -> dict[str, Any]:
    """The seat's status: phase, reason, message, node, pod IP and conditions."""
    lost = _starting_again(observed, previous)
    if lost:  # not the dead pod's DesktopFailed or WaitingForCleanup: it is being replaced
        observed = replace(observed, problem=None)
        phase, ready, reason, message = "Starting", False, conditions.STARTING, lost
    else:
        phase, ready, reason, message = _phase(observed)
    problem = observed.problem
    if ready and observed.update_pending:
        progressing = Condition(conditions.PROGRESSING, True, conditions.UPDATE_PENDING,
                                _UPDATE_MESSAGE)
    elif not ready and problem is None:
        progressing = Condition(conditions.PROGRESSING, True, reason, message)
    else:
        progressing = Condition(conditions.PROGRESSING, False, conditions.AS_EXPECTED)
    wanted = [
        Condition(conditions.READY, ready, reason, message),
        progressing,
        Condition(conditions.DEGRADED, problem is not None,
                  problem.reason if problem else conditions.AS_EXPECTED,
                  problem.message if problem else ""),
    ]
    pod_state = observed.pod.pod if observed.pod is not None else None
    started = {"lastActivity": _timestamp(now)} if observed.started else {}
    return {
        **started,  # a (re)started desktop's idle clock starts now
        "phase": phase,
        "reason": reason,
        "message": message,
        "node": pod_state.node if pod_state else "",
        "podIP": pod_state.ip if pod_state else "",
        "idleStopped": observed.decision.idle_stopped,
        "observedGeneration": generation,
        "conditions": conditions.merge(previous.get("conditions"), wanted, generation, now),
    }


def _timestamp(moment: datetime) -> str:
    return format_time(moment)


_UPDATE_MESSAGE = "the desktop runs an older spec; it takes the new one at its next start"


def _phase(observed: Observed) -> tuple[str, bool, str, str]:
    """(phase, ready, reason, message)."""
    decision, pod, problem = observed.decision, observed.pod, observed.problem
    pod_state = pod.pod if pod is not None else None
    if problem is not None:
        phase = "Failed" if problem.reason in FAILED_REASONS else "Pending"
        return phase, False, problem.reason, problem.message
    if not decision.run:
        if pod is not None:
            return "Stopped", False, conditions.STOPPING, "stopping the desktop"
        phase = "Scheduled" if decision.why_stopped == conditions.SCHEDULED else "Stopped"
        return phase, observed.prepared, decision.why_stopped, _stopped_message(observed)
    if observed.waiting:
        return "Pending", False, conditions.WAITING_FOR_CLEANUP, \
            "waiting for the previous desktop's objects to be deleted"
    if pod_state is None or not pod_state.ready:
        return "Starting", False, conditions.STARTING, "desktop is starting"
    return "Running", True, conditions.DESKTOP_READY, f"desktop ready on node {pod_state.node}"


LOST_PREFIX = "desktop is starting again: "
LOST = LOST_PREFIX + "its pod on node {node} went away"


def _starting_again(observed: Observed, previous: Mapping[str, Any]) -> str:
    """While a desktop that was running starts anew, why: its pod went away behind our
    back (its node deleted: PodGC fails, then deletes it; evicted; deleted by hand; the
    operator itself never removes a running desktop's pod without stopping the seat).
    Kept until the new pod is Ready; "" otherwise."""
    view = observed.pod
    pod, deleting = (view.pod, view.deleting) if view is not None else (None, False)
    if not observed.decision.run or (pod is not None and pod.ready and not deleting):
        return ""
    dead = view is None or deleting or (pod is not None and pod.phase in ("Failed", "Succeeded"))
    if dead and previous.get("phase") == "Running" and previous.get("node"):
        return LOST.format(node=previous["node"])
    message = str(previous.get("message") or "")
    starting = previous.get("reason") == conditions.STARTING
    return message if starting and message.startswith(LOST_PREFIX) else ""


def _stopped_message(observed: Observed) -> str:
    why = observed.decision.why_stopped
    if why == conditions.SCHEDULED:
        when = _timestamp(observed.starts_at) if observed.starts_at else "?"
        return f"home and credentials prepared; the desktop starts at {when}"
    if why == conditions.SUSPENDED:
        return "course suspended; home and link are kept"
    if why == conditions.ENDED:
        return "course ended; home is kept"
    if why == conditions.IDLE:
        timeout = observed.idle_timeout
        after = f" after {timeout} without activity" if timeout else ""
        return f"stopped{after}; opening the link starts it again"
    return "desktop stopped"


def object_age(view: ObjectView, now: datetime) -> float:
    """Seconds since the object (a pod, a claim) was created (0 when it has no creation
    time yet)."""
    return (now - parse_time(view.created)).total_seconds() if view.created else 0.0


def transition_events(before: Mapping[str, Any], after: Mapping[str, Any],
                      observed: Observed) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the Events a change of the seat's reason deserves."""
    if before.get("reason") == after["reason"]:
        return []
    if before.get("phase") == "Running" and after["message"].startswith(LOST_PREFIX):
        return [("Warning", "DesktopLost", str(after["message"]))]
    if observed.problem is not None:
        return [("Warning", observed.problem.reason, observed.problem.message)]
    if observed.decision.idle_stop:
        return [("Normal", "IdleStopped", str(after["message"]))]
    return []
