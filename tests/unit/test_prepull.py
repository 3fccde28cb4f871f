"""Image pre-pull decisions against the fake API server: one DaemonSet per image and
placement in the operator's namespace (never a course namespace, whose quota would pay for
its pods), shared by courses that agree, gone when no due course needs it; the course's
status and ImagesReady condition follow the DaemonSet's rollout."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from arcdesk.api import labels
from arcdesk.api.schedule import plan
from arcdesk.engine.course_logic import CourseFacts, course_status
from arcdesk.engine.prepull_sync import PREPULL, course_rollout, reconcile_prepulls
from arcdesk.kube.fake import FakeKube
from tests.unit.fake_cluster import NOW, course_body, world

pytestmark = pytest.mark.unit
SYSTEM = "arcdesk-system"


def pullers(kube: FakeKube) -> list[dict[str, Any]]:
    return kube.of_kind("DaemonSet")


def prepull_world(*courses: dict[str, Any]) -> tuple[Any, FakeKube]:
    ctx, kube, _ = world(*courses)
    ctx.settings = dataclasses.replace(ctx.settings, prepull_namespace=SYSTEM)
    return ctx, kube


def test_courses_with_one_image_and_placement_share_one_daemon_set_in_the_operator_namespace(
        ) -> None:
    ctx, kube = prepull_world(course_body(name="bio"), course_body(name="chem"),
                              course_body(name="arc", profile="arc"))
    outcome = asyncio.run(reconcile_prepulls(ctx))
    found = pullers(kube)
    assert len(found) == 2 and {d["metadata"]["namespace"] for d in found} == {SYSTEM}
    images = sorted(d["spec"]["template"]["spec"]["containers"][0]["image"] for d in found)
    assert images == ["localhost/arcdesk/desktop-arc:0.1.0", "localhost/arcdesk/desktop-base:0.1.0"]
    for puller in found:
        assert not puller["metadata"].get("ownerReferences")  # no cross-namespace owners
        assert puller["metadata"]["labels"][labels.COMPONENT] == labels.PREPULL_COMPONENT
    assert outcome.requeue_after == 3.0  # pulling: look again soon


def test_the_daemon_set_goes_when_its_last_course_is_suspended() -> None:
    ctx, kube = prepull_world(course_body(name="bio"))
    asyncio.run(reconcile_prepulls(ctx))
    assert len(pullers(kube)) == 1
    asyncio.run(kube.merge_patch("Course", "training", "bio", {"spec": {"suspend": True}}))
    asyncio.run(reconcile_prepulls(ctx))
    assert pullers(kube) == []


def test_no_prepull_namespace_means_no_daemon_set_and_says_so() -> None:
    ctx, kube, _ = world(course_body())
    assert asyncio.run(reconcile_prepulls(ctx)).requeue_after is None
    assert pullers(kube) == []


def test_the_course_status_follows_the_rollout_and_names_the_image() -> None:
    ctx, kube = prepull_world(course_body(name="bio"))
    asyncio.run(reconcile_prepulls(ctx))
    [puller] = pullers(kube)
    puller["status"] = {"observedGeneration": puller["metadata"].get("generation", 0),
                        "desiredNumberScheduled": 4, "numberReady": 3,
                        "updatedNumberScheduled": 4}
    outcome = asyncio.run(reconcile_prepulls(ctx))
    assert outcome.follow_up == (("Course", "training", "bio"),)  # its status changed
    view = ctx.caches.course("training", "bio")
    course = ctx.models.course(view)
    profile = ctx.models.profile(ctx.caches.profile("base"))
    facts = CourseFacts(course, plan(course, NOW), (), profile_found=True, prepull=True,
                        images=course_rollout(ctx, course, profile), image=profile.image)
    status = course_status(facts, NOW, {})
    assert status["images"]["summary"] == "3/4"
    [images] = [c for c in status["conditions"] if c["type"] == "ImagesReady"]
    assert (images["status"], images["reason"]) == ("False", "ImagesPulling")
    assert "3/4 eligible nodes hold localhost/arcdesk/desktop-base:0.1.0" in images["message"]

    puller["status"]["numberReady"] = 4
    asyncio.run(reconcile_prepulls(ctx))
    facts = dataclasses.replace(facts, images=course_rollout(ctx, course, profile))
    [images] = [c for c in course_status(facts, NOW, {})["conditions"]
                if c["type"] == "ImagesReady"]
    assert (images["status"], images["reason"]) == ("True", "ImagesPulled")
    assert PREPULL[0] == "Prepull"
