"""Pure decisions for one course: which Seats to create, update or delete, and the
course status (phase, seat counts, conditions). course_sync carries them out.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from arcdesk.api import conditions, labels, naming
from arcdesk.api.conditions import Condition
from arcdesk.api.model import Course, format_time
from arcdesk.api.schedule import ACTIVE, ENDED, SCHEDULED, SUSPENDED, Plan
from arcdesk.api.views import Rollout, SeatView
from arcdesk.build import desired
from arcdesk.build.desired import Manifest, Owner
from arcdesk.engine.seat_logic import Action, Problem, child_action

_STAGE_PHASE = {SCHEDULED: "Scheduled", SUSPENDED: "Suspended", ENDED: "Ended"}
_STAGE_READY_REASON = {SCHEDULED: conditions.SCHEDULED, SUSPENDED: conditions.SUSPENDED,
                       ENDED: conditions.ENDED, ACTIVE: conditions.ALL_SEATS_READY}


def course_owner(name: str, uid: str) -> Owner:
    return Owner(labels.API_VERSION, "Course", name, uid)


def seat_owner(name: str, uid: str) -> Owner:
    return Owner(labels.API_VERSION, "Seat", name, uid)


def desired_seats(course: Course, run: bool) -> dict[str, Manifest]:
    """Seat manifests by name, each Running when the schedule says ``run``."""
    owner = course_owner(course.name, course.uid)
    state = "Running" if run else "Stopped"
    return {naming.seat_name(course.name, t.id): desired.seat(course, t, state, owner)
            for t in course.trainees}


def desktop_inputs(spec: Mapping[str, Any]) -> str:
    """A digest of what every seat's desktop is made from: the course spec without its
    seat list (each seat's own entry reaches it through its Seat's spec)."""
    shared = {k: v for k, v in spec.items() if k != "seats"}
    return hashlib.sha256(json.dumps(shared, sort_keys=True).encode()).hexdigest()


@dataclass
class SeatChanges:
    create: list[Manifest] = field(default_factory=list)
    update: list[Manifest] = field(default_factory=list)
    delete: list[SeatView] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # names held by someone else's Seat
    waiting: list[str] = field(default_factory=list)  # an earlier course's Seat is going away


def seat_changes(wanted: Mapping[str, Manifest], existing: Iterable[SeatView],
                 owner: Owner) -> SeatChanges:
    """Compare desired Seats with those that exist (by name)."""
    changes = SeatChanges()
    found = {s.name: s for s in existing}
    for name, manifest in wanted.items():
        view = found.get(name)
        action = child_action(manifest, view, owner, compare_spec=True)
        if action is Action.CREATE:
            changes.create.append(manifest)
        elif action is Action.UPDATE:
            changes.update.append(manifest)
        elif action is Action.CONFLICT:
            changes.conflicts.append(name)
        elif action is Action.WAIT:
            changes.waiting.append(name)
    for name, view in found.items():
        # Only Seats this very course controls are removed; a stale one goes with its owner.
        controller = view.controller
        if name not in wanted and not view.deleting and controller and controller.uid == owner.uid:
            changes.delete.append(view)
    return changes


def unsettled(changes: SeatChanges) -> frozenset[str]:
    return frozenset(m["metadata"]["name"] for m in [*changes.create, *changes.update])


def seat_problems(changes: SeatChanges) -> list[Problem]:
    problems = []
    if changes.conflicts:
        problems.append(Problem(conditions.NAME_CONFLICT, _names_message(
            changes.conflicts, "exist and are not this course's; rename or delete them")))
    return problems


def _names_message(names: Sequence[str], what: str) -> str:
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    noun = "Seat" if len(names) == 1 else "Seats"
    return f"{noun} {shown} {what}"


@dataclass(frozen=True)
class CourseFacts:
    """What the course reconcile found, as input to the course status."""

    course: Course
    plan: Plan
    seats: Sequence[SeatView]  # this course's Seats that exist
    profile_found: bool
    problems: Sequence[Problem] = ()  # from writing the course's own objects
    # Seats just created or changed: their status still describes the old spec.
    unsettled: frozenset[str] = frozenset()
    images: Rollout | None = None  # the rollout of the DaemonSet pre-pulling the image
    image: str = ""  # the profile's image
    prepull: bool = False  # the operator pre-pulls images (it has a namespace for it)


def course_status(facts: CourseFacts, now: datetime, previous: Mapping[str, Any],
                  ) -> dict[str, Any]:
    course, plan = facts.course, facts.plan
    wanted = {naming.seat_name(course.name, t.id) for t in course.trainees}
    mine = [s for s in facts.seats if s.name in wanted]
    ready = sum(1 for s in mine if s.ready() and s.name not in facts.unsettled)
    total = len(wanted)
    problem = _course_problem(facts, mine, total)
    phase = _phase(plan, ready, total, facts.profile_found)
    return {
        "phase": phase,
        "observedGeneration": course.generation,
        "selector": labels.seats_selector(course.name),
        "nextTransition": _timestamp(plan.next_transition),
        "seats": {"desired": total, "ready": ready, "summary": f"{ready}/{total}"},
        "images": _images(facts),
        "conditions": conditions.merge(previous.get("conditions"),
                                       [*_conditions(facts, ready, total, problem),
                                        _images_condition(facts)],
                                       course.generation, now),
    }


def prepull_due(stage: str) -> bool:
    """Whether a course in ``stage`` wants its image on the nodes: from creation on, until
    it is suspended or ends."""
    return stage in (SCHEDULED, ACTIVE)


def _images(facts: CourseFacts) -> dict[str, Any] | None:
    found = facts.images
    if found is None or not prepull_due(facts.plan.stage):
        return None
    return {"image": facts.image, "eligible": found.eligible, "ready": found.ready,
            "summary": f"{found.ready}/{found.eligible}"}


def _images_condition(facts: CourseFacts) -> Condition:
    if not facts.prepull:
        return Condition(conditions.IMAGES_READY, False, conditions.NOT_PULLING,
                         "the operator pre-pulls no images (operator run --prepull-namespace)")
    if not facts.profile_found or not prepull_due(facts.plan.stage):
        return Condition(conditions.IMAGES_READY, False, conditions.NOT_PULLING,
                         "nothing to pre-pull: the course is suspended or ended, or has no "
                         "profile")
    found = facts.images or Rollout(0, 0, observed=False)
    where = f"{found.ready}/{found.eligible} eligible nodes hold {facts.image}"
    if found.observed and found.eligible == 0:
        return Condition(conditions.IMAGES_READY, False, conditions.NO_ELIGIBLE_NODES,
                         "no node matches the profile's nodeSelector and tolerations: add "
                         "nodes with those labels, or change the profile")
    if found.observed and found.ready == found.eligible:
        return Condition(conditions.IMAGES_READY, True, conditions.IMAGES_PULLED, where)
    return Condition(conditions.IMAGES_READY, False, conditions.IMAGES_PULLING, where)


def _timestamp(when: datetime | None) -> str | None:
    return format_time(when) if when is not None else None


def _phase(plan: Plan, ready: int, total: int, profile_found: bool) -> str:
    if plan.stage in _STAGE_PHASE:
        return _STAGE_PHASE[plan.stage]
    if ready == total:
        return "Running"
    return "Provisioning" if profile_found else "Pending"


def _course_problem(facts: CourseFacts, seats: Sequence[SeatView], total: int,
                    ) -> Problem | None:
    """The course's own problem first, else the most common problem of its seats."""
    if not facts.profile_found and facts.plan.run:
        return Problem(conditions.PROFILE_NOT_FOUND,
                       f"DesktopProfile {facts.course.profile!r} not found: create it or set "
                       "spec.profile to an existing one (kubectl get desktopprofiles)")
    if facts.problems:
        return facts.problems[0]
    degraded = [c for c in (conditions.find(s.status.get("conditions"), conditions.DEGRADED)
                            for s in seats if s.status.get("observedGeneration") == s.generation)
                if c is not None and c.get("status") == "True"]
    if not degraded:
        return None
    reason, count = Counter(str(c.get("reason")) for c in degraded).most_common(1)[0]
    example = next(str(c.get("message", "")) for c in degraded if c.get("reason") == reason)
    return Problem(reason, f"{count} of {total} seats: {example}")


def _conditions(facts: CourseFacts, ready: int, total: int, problem: Problem | None,
                ) -> list[Condition]:
    all_ready = ready == total  # a profile deleted under running desktops only degrades
    counts = f"{ready}/{total} seats ready"
    if all_ready:
        ready_condition = Condition(conditions.READY, True,
                                    _STAGE_READY_REASON[facts.plan.stage], counts)
        progressing = Condition(conditions.PROGRESSING, False, conditions.AS_EXPECTED, counts)
    else:
        reason = problem.reason if problem else conditions.SEATS_NOT_READY
        ready_condition = Condition(conditions.READY, False, reason, counts)
        stopping = facts.plan.stage in (SUSPENDED, ENDED)
        progressing = Condition(conditions.PROGRESSING, True,
                                conditions.STOPPING if stopping else conditions.PROVISIONING,
                                counts)
    degraded = (Condition(conditions.DEGRADED, True, problem.reason, problem.message)
                if problem else Condition(conditions.DEGRADED, False, conditions.AS_EXPECTED))
    return [ready_condition, progressing, degraded]
