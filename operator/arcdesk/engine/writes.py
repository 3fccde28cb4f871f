"""The one write path for the objects arcdesk owns (a course's Seats, NetworkPolicy and
instructor Secret; a seat's Secret, home, Service and Pod).

Create by POST; when the name is taken, GET it and look whose it is (ours, not in the index
yet; someone else's: a name conflict; gone meanwhile: look again shortly). Update by
server-side apply; replace by a delete with the old uid as precondition. A refusal becomes
a Problem for the status; a transient server error is raised for a retry with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arcdesk.api import conditions
from arcdesk.api.views import ObjectView, object_view
from arcdesk.build.desired import Owner
from arcdesk.engine.seat_logic import Action, Problem, child_action, name_conflict
from arcdesk.engine.state import Context
from arcdesk.kube import ApiError

Manifest = dict[str, Any]
CLEANUP_RECHECK = 2.0  # seconds; the DELETED watch event usually comes first


@dataclass(frozen=True)
class Written:
    exists: bool  # the object is there afterwards
    waiting: bool = False  # look again shortly: deleted meanwhile, or being replaced
    problem: Problem | None = None


def problem_from(error: ApiError, kind: str, name: str) -> Problem:
    """A user-facing problem for a refused write; quota gets its own reason. A transient
    server error (5xx, 429, no answer) is raised again instead: the reconcile is retried
    with backoff and nobody is shown a condition for a hiccup."""
    if error.transient:
        raise error
    if error.quota_exceeded:
        return Problem(conditions.QUOTA_EXCEEDED, error.message)
    return Problem(conditions.API_ERROR, f"{kind} {name}: {error.status} {error.message}")


def metadata_only(manifest: Manifest) -> Manifest:
    """Apply configuration for an object whose spec or data we must not touch."""
    return {"apiVersion": manifest["apiVersion"], "kind": manifest["kind"],
            "metadata": manifest["metadata"]}


async def ensure(ctx: Context, want: Manifest, view: ObjectView | None, action: Action,
                 owner: Owner, update: Manifest | None = None) -> Written:
    """Carry out ``action`` (child_action's verdict) for ``want``; ``update`` is what to
    apply instead of ``want`` when only some fields are ours to assert."""
    meta = want["metadata"]
    kind, namespace, name = want["kind"], meta["namespace"], meta["name"]
    if action is Action.CREATE:
        return await create(ctx, want, owner)
    try:
        if action is Action.UPDATE:
            await ctx.kube.apply(update or want)
        elif action is Action.RECREATE and view is not None:
            await ctx.kube.delete(kind, namespace, name, view.uid)
            ctx.forget_created(kind, namespace, name)
            return Written(exists=False, waiting=True)
    except ApiError as error:
        return Written(exists=view is not None, problem=problem_from(error, kind, name))
    return settled(action, kind, name, owner)


async def create(ctx: Context, want: Manifest, owner: Owner) -> Written:
    meta = want["metadata"]
    kind, namespace, name = want["kind"], meta["namespace"], meta["name"]
    try:
        ctx.remember_created(await ctx.kube.create(want))
        return Written(exists=True)
    except ApiError as error:
        if error.status != 409:
            return Written(exists=False, problem=problem_from(error, kind, name))
    found = await ctx.kube.get(kind, namespace, name)
    if found is None:
        return Written(exists=False, waiting=True)  # deleted meanwhile; try again shortly
    ctx.remember_created(found)
    return settled(child_action(want, object_view(found), owner), kind, name, owner)


def settled(action: Action, kind: str, name: str, owner: Owner) -> Written:
    if action is Action.CONFLICT:
        return Written(exists=False, problem=name_conflict(kind, name, owner.kind))
    if action is Action.WAIT:
        return Written(exists=False, waiting=True)
    return Written(exists=True)
