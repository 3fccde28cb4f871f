"""Reconcile one Course: its Seats, NetworkPolicy and instructor Secret, then its status.
Decisions are course_logic's; this module does the I/O.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from typing import Any

from arcdesk.api import conditions, credentials, labels, naming
from arcdesk.api.model import Course
from arcdesk.api.schedule import Plan, plan, seconds_until
from arcdesk.api.views import CourseView
from arcdesk.build import desired
from arcdesk.build.desired import Manifest, Owner
from arcdesk.engine import writes
from arcdesk.engine.course_logic import (
    CourseFacts,
    SeatChanges,
    course_owner,
    course_status,
    desired_seats,
    desktop_inputs,
    seat_changes,
    seat_problems,
    unsettled,
)
from arcdesk.engine.prepull_sync import course_rollout
from arcdesk.engine.seat_logic import Action, Problem, child_action
from arcdesk.engine.state import Context, Outcome
from arcdesk.engine.writes import CLEANUP_RECHECK, metadata_only

BOUNDARY_MARGIN = 0.05  # seconds past a schedule boundary, so the plan has surely changed


async def reconcile_course(ctx: Context, namespace: str, name: str) -> Outcome:
    view = ctx.caches.course(namespace, name)
    if view is None or view.deleting:
        ctx.forget("Course", namespace, name)
        return Outcome()  # garbage collection removes what it owned
    course = ctx.models.course(view)
    now = ctx.clock()
    schedule = plan(course, now)
    owner = course_owner(name, view.uid)
    wanted = ctx.models.renders.get(desired_seats, course, schedule.run,
                                    slot=("course", namespace, name))
    changes = seat_changes(wanted, ctx.caches.seats_of(namespace, name), owner)
    problems = seat_problems(changes)
    results = await asyncio.gather(_write_seats(ctx, changes, owner),
                                   _ensure_policy(ctx, course, owner),
                                   _ensure_instructor_secret(ctx, course, view, owner))
    problems += [p for found in results for p in found]
    profile = ctx.caches.profile(course.profile)
    model = ctx.models.profile(profile)
    facts = CourseFacts(course, schedule, ctx.caches.seats_of(namespace, name),
                        profile_found=profile is not None, problems=problems,
                        unsettled=unsettled(changes),
                        images=course_rollout(ctx, course, model),
                        image=model.image if model else "",
                        prepull=bool(ctx.settings.prepull_namespace))
    await _publish(ctx, view, facts)
    delays = [d for d in (seconds_until(schedule.next_transition, now),
                          CLEANUP_RECHECK if changes.waiting else None) if d is not None]
    return Outcome(requeue_after=min(delays) + BOUNDARY_MARGIN if delays else None,
                   failed=any(p.retry for p in problems),
                   follow_up=_seats_to_revisit(ctx, view, schedule,
                                               profile.version if profile else ""))


def _seats_to_revisit(ctx: Context, view: CourseView, schedule: Plan,
                      profile_version: str) -> tuple[tuple[str, str, str], ...]:
    """All seats, when what their desktops are made from has changed (course spec,
    profile, schedule stage); also after a restart, as nothing is remembered then.
    Not on a scale edit: a new Seat's creation queues it, and the others are unchanged."""
    inputs = (desktop_inputs(view.body["spec"]), profile_version, schedule.stage)
    key = (view.namespace, view.name)
    if ctx.course_inputs.get(key) == inputs:
        return ()
    ctx.course_inputs[key] = inputs
    return tuple(("Seat", s.namespace, s.name) for s in ctx.caches.seats_of(*key))


async def _write_seats(ctx: Context, changes: SeatChanges, owner: Owner) -> list[Problem]:
    async def delete(namespace: str, name: str, uid: str) -> writes.Written:
        await ctx.kube.delete("Seat", namespace, name, uid)
        return writes.Written(exists=False)

    found = await asyncio.gather(
        *(writes.create(ctx, m, owner) for m in changes.create),
        *(writes.ensure(ctx, m, None, Action.UPDATE, owner) for m in changes.update),
        *(delete(s.namespace, s.name, s.uid) for s in changes.delete))
    return [w.problem for w in found if w.problem is not None]


async def _ensure_course_child(ctx: Context, want: Manifest, owner: Owner,
                               compare_spec: bool) -> list[Problem]:
    meta = want["metadata"]
    view = ctx.child(want["kind"], meta["namespace"], meta["name"])
    action = child_action(want, view, owner, compare_spec=compare_spec)
    written = await writes.ensure(ctx, want, view, action, owner,
                                  None if compare_spec else metadata_only(want))
    return [written.problem] if written.problem is not None else []


async def _ensure_policy(ctx: Context, course: Course, owner: Owner) -> list[Problem]:
    want = desired.network_policy(course, ctx.settings, owner)
    return await _ensure_course_child(ctx, want, owner, compare_spec=True)


async def _ensure_instructor_secret(ctx: Context, course: Course, view: CourseView,
                                    owner: Owner) -> list[Problem]:
    """Created once; a new token only when asked for (REISSUE_REQUESTED on the Course)."""
    name = naming.instructor_secret_name(course.name)
    existing = ctx.child("Secret", course.namespace, name)
    token = credentials.new_token() if existing is None else "<unchanged>"
    want = desired.instructor_secret(course, token, owner)
    problems = await _ensure_course_child(ctx, want, owner, compare_spec=False)
    request = view.annotations.get(labels.REISSUE_REQUESTED)
    acted_key = (view.namespace, view.name, labels.REISSUE_REQUESTED)
    if request is None:
        ctx.acted_requests.pop(acted_key, None)
    elif ctx.acted_requests.get(acted_key) != request and existing is not None and not problems:
        data = {labels.INSTRUCTOR_TOKEN_KEY: base64.b64encode(
            credentials.new_token().encode()).decode()}
        await ctx.kube.merge_patch("Secret", course.namespace, name, {"data": data})
        await ctx.kube.merge_patch("Course", course.namespace, course.name, {
            "metadata": {"annotations": {labels.REISSUE_REQUESTED: None}}})
        ctx.acted_requests[acted_key] = request
        await ctx.kube.record_event(_involved(view), "Normal", "CredentialsReissued",
                                    "new instructor token issued")
    return problems


async def _publish(ctx: Context, view: CourseView, facts: CourseFacts) -> None:
    before = ctx.previous_status("Course", view.namespace, view.name, view.status)
    status = course_status(facts, ctx.clock(), before)
    if any(before.get(k) != v for k, v in status.items()):
        await ctx.kube.merge_patch("Course", view.namespace, view.name, {"status": status},
                                   subresource="status")
        ctx.remember_status("Course", view.namespace, view.name, status)
    for type_, reason, message in _transition_events(before, status):
        await ctx.kube.record_event(_involved(view), type_, reason, message)


def _transition_events(before: Mapping[str, Any], after: Mapping[str, Any],
                       ) -> list[tuple[str, str, str]]:
    events = []
    if before.get("phase") != after["phase"]:
        events.append(("Normal", str(after["phase"]), f"course is {after['phase']}"))
    old = conditions.find(before.get("conditions"), conditions.DEGRADED) or {}
    new = conditions.find(after["conditions"], conditions.DEGRADED) or {}
    if new.get("status") == "True" and old.get("reason") != new.get("reason"):
        events.append(("Warning", str(new["reason"]), str(new.get("message", ""))))
    return events


def _involved(view: CourseView) -> dict[str, str]:
    return {"apiVersion": labels.API_VERSION, "kind": "Course", "name": view.name,
            "namespace": view.namespace, "uid": view.uid}
