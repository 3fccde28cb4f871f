"""Image pre-pull: one DaemonSet per desktop image and placement, in the operator's own
namespace, while any course that needs it is due (scheduled or running); removed when no
course needs it any more. Its idle pods make every eligible node pull the image before the
trainees arrive, and never count against a course namespace's ResourceQuota.

One reconcile looks at every course (the key :data:`PREPULL`), lists the DaemonSets it owns
by label, creates what is missing and deletes what is not wanted. It remembers each
DaemonSet's rollout; a course reconcile reads its own from there for ``status.images``.
While a pull is under way it looks again every few seconds (the operator does not watch
its own namespace).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from arcdesk.api import labels, naming
from arcdesk.api.model import Course, Profile
from arcdesk.api.schedule import plan
from arcdesk.api.views import Rollout, rollout
from arcdesk.build import desired
from arcdesk.build.desired import Manifest
from arcdesk.engine.course_logic import prepull_due
from arcdesk.engine.state import Context, Outcome
from arcdesk.kube.errors import ApiError

PREPULL = ("Prepull", "", "")  # the work-queue key of the one pre-pull reconcile
PULLING_RECHECK = 3.0  # seconds between looks while some node still pulls
SETTLED_RECHECK = 60.0  # and once every node holds every image (new nodes join)
SELECTOR = f"{labels.COMPONENT}={labels.PREPULL_COMPONENT},{labels.MANAGED_BY}={labels.MANAGER}"


def wanted(ctx: Context) -> tuple[dict[str, Manifest], dict[str, list[tuple[str, str]]]]:
    """The DaemonSets every due course needs, by name, and which courses need each."""
    manifests: dict[str, Manifest] = {}
    users: dict[str, list[tuple[str, str]]] = {}
    now = ctx.clock()
    for view in ctx.caches.courses():
        course = ctx.models.course(view)
        profile = ctx.models.profile(ctx.caches.profile(course.profile))
        if view.deleting or profile is None or not prepull_due(plan(course, now).stage):
            continue
        manifest = desired.prepull(course, profile, ctx.settings.prepull_namespace)
        name = manifest["metadata"]["name"]
        manifests[name] = manifest
        users.setdefault(name, []).append((course.namespace, course.name))
    return manifests, users


def course_rollout(ctx: Context, course: Course, profile: Profile | None) -> Rollout | None:
    """The rollout of the DaemonSet that pre-pulls ``course``'s image (None: none yet, or
    pre-pull off)."""
    if profile is None or not ctx.settings.prepull_namespace:
        return None
    return ctx.prepull_rollouts.get(naming.prepull_name(desired.prepull_key(course, profile)))


async def reconcile_prepulls(ctx: Context) -> Outcome:
    namespace = ctx.settings.prepull_namespace
    if not namespace:
        return Outcome()
    manifests, users = wanted(ctx)
    found, _ = await ctx.kube.list("DaemonSet", namespace, SELECTOR)
    existing = {str(d["metadata"]["name"]): d for d in found}
    await asyncio.gather(*(_create(ctx, m) for n, m in manifests.items() if n not in existing),
                         *(ctx.kube.delete("DaemonSet", namespace, n, d["metadata"]["uid"])
                           for n, d in existing.items() if n not in manifests))
    rollouts = {n: rollout(d) for n, d in existing.items() if n in manifests}
    changed = {n for n in manifests if rollouts.get(n) != ctx.prepull_rollouts.get(n)}
    ctx.prepull_rollouts = rollouts
    settled = all(r.observed and r.ready == r.eligible for r in rollouts.values()) \
        and set(rollouts) == set(manifests)
    return Outcome(requeue_after=SETTLED_RECHECK if settled else PULLING_RECHECK,
                   follow_up=tuple(("Course", ns, name) for n in sorted(changed)
                                   for ns, name in users[n]))


async def _create(ctx: Context, manifest: Mapping[str, Any]) -> None:
    try:
        await ctx.kube.create(dict(manifest))
    except ApiError as error:
        if error.status != 409:  # 409: made meanwhile; the next look sees it
            raise
