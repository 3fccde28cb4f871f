"""Rendering with every option of Course and DesktopProfile switched on."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from arcdesk.api import labels
from arcdesk.api.model import Trainee, parse_course
from arcdesk.api.settings import Settings
from arcdesk.build import desired, profiles
from arcdesk.tasks import offline
from tests.unit.builders import (
    course_doc,
    default_profile,
    every_option_course,
    every_option_profile,
    fixed_credentials,
    seat_owner,
)

COURSE = every_option_course()
PROFILE = every_option_profile()
ALICE = COURSE.trainees[0]


def _pod() -> dict[str, Any]:
    return desired.pod(COURSE, PROFILE, ALICE, seat_owner(COURSE, ALICE, 1))


def _env(pod: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}


def test_the_course_is_parsed_with_every_field() -> None:
    assert [t.id for t in COURSE.trainees] == ["alice", "bob"]
    assert COURSE.trainees[0].display_name == "Alice Anders"
    assert COURSE.schedule.start == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert COURSE.schedule.prewarm == timedelta(minutes=45)
    assert COURSE.idle_timeout == timedelta(hours=2)
    assert COURSE.wake_on_connect is False
    assert COURSE.instructor_control is True
    assert (COURSE.uid, COURSE.generation) == ("u-1", 4)


def test_course_resources_override_the_profile_defaults() -> None:
    container = _pod()["spec"]["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "3", "memory": "6Gi"},
        "limits": {"memory": "6Gi", "nvidia.com/gpu": 1},
    }


def test_without_course_resources_the_profile_defaults_apply() -> None:
    course = parse_course(course_doc({"title": "t", "profile": "arc", "seats": {"count": 1}}))
    pod = desired.pod(course, default_profile("arc"), course.trainees[0], None)
    assert pod["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}


def test_pod_carries_image_env_materials_and_apps() -> None:
    pod = _pod()
    container = pod["spec"]["containers"][0]
    assert container["image"] == "registry.example.org/arcdesk/desktop-gpu:1.2"
    assert container["imagePullPolicy"] == "Always"
    env = _env(pod)
    assert env["NAPARI_ASYNC"] == "1"
    assert env["HOME"] == labels.HOME_DIR
    assert env["ARCDESK_TRAINEE"] == "Alice Anders"
    assert env["ARCDESK_COURSE_TITLE"] == "Everything switched on"
    assert json.loads(env["ARCDESK_MATERIALS"]) == [
        {"git": {"url": "https://git.example.org/g/course-arc.git", "ref": "v2",
                 "directory": "arc"}},
        {"git": {"url": "https://git.example.org/g/extra.git", "ref": "main",
                 "directory": "extra"}},
    ]
    assert json.loads(env["ARCDESK_APPS"]) == [{"name": "napari", "exec": "napari",
                                                "icon": "napari"}]


def test_profile_datasets_are_mounted_read_only() -> None:
    pod = _pod()
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    mount = mounts["/data/plants"]
    assert mount["readOnly"] is True
    claim = volumes[mount["name"]]["persistentVolumeClaim"]
    assert claim == {"claimName": "plant-images", "readOnly": True}


def test_scheduling_merges_node_selectors_course_last_and_sets_priority() -> None:
    spec = _pod()["spec"]
    assert spec["nodeSelector"] == {"gpu": "true", "pool": "desktops"}
    assert spec["priorityClassName"] == "desktops"
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists",
                                    "effect": "NoSchedule"}]


def test_storage_class_size_and_delete_policy_reach_the_home_claim() -> None:
    owner = seat_owner(COURSE, ALICE, 1)
    claim = desired.home_claim(COURSE, ALICE, owner)
    assert claim["spec"]["storageClassName"] == "fast"
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["metadata"]["ownerReferences"] == [owner.reference()], \
        "reclaimPolicy Delete: the home goes with its seat"


def test_retain_keeps_the_home_claim_ownerless() -> None:
    course = parse_course(course_doc({"title": "t", "profile": "arc", "seats": {"count": 1}}))
    claim = desired.home_claim(course, course.trainees[0], seat_owner(course, ALICE, 1))
    assert course.reclaim_policy == "Retain"
    assert "ownerReferences" not in claim["metadata"]


def test_roster_display_name_reaches_the_seat() -> None:
    seat = desired.seat(COURSE, ALICE, "Running", None)
    assert seat["spec"] == {"course": "full", "id": "alice", "displayName": "Alice Anders",
                            "state": "Running"}


def test_secret_holds_exactly_the_injected_credentials() -> None:
    secret = desired.secret(COURSE, ALICE, fixed_credentials(7), None, generation=3)
    assert secret["stringData"] == fixed_credentials(7).as_secret_data()
    assert secret["metadata"]["annotations"] == {labels.SECRET_GENERATION: "3"}


def test_suspended_course_renders_stopped_seats_without_desktops() -> None:
    doc = course_doc({"title": "t", "profile": "base", "seats": {"count": 2}, "suspend": True})
    rendered = offline.render_course(doc, profiles.default_profiles(), Settings())
    kinds = sorted(o["kind"] for o in rendered.objects)
    assert kinds == ["NetworkPolicy", "PersistentVolumeClaim", "PersistentVolumeClaim",
                     "Seat", "Seat", "Secret", "Secret", "Secret"]
    assert {o["spec"]["state"] for o in rendered.objects if o["kind"] == "Seat"} == {"Stopped"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("unicode: Zoë 🔬 café", "unicode: Zoë 🔬 café"),
     ("quotes ' \" and <html> & {braces}: colon", "quotes ' \" and <html> & {braces}: colon"),
     ("line\u2028separator and \x85 next-line", "line\u2028separator and \x85 next-line")],
)
def test_any_title_reaches_the_desktop_unchanged(text: str, expected: str) -> None:
    course = parse_course(course_doc({"title": text, "profile": "base", "seats": {"count": 1}}))
    pod = desired.pod(course, default_profile("base"), Trainee("seat-001", text), None)
    env = _env(pod)
    assert env["ARCDESK_COURSE_TITLE"] == expected
    assert env["ARCDESK_TRAINEE"] == expected
    env["ARCDESK_TRAINEE"].encode("utf-8")  # no lone surrogates: the API server needs UTF-8


@pytest.mark.parametrize(
    ("url", "directory"),
    [("https://git.example.org/group/course-arc.git", "course-arc"),
     ("https://git.example.org/group/repo.git/", "repo"),
     ("https://git.example.org/group/repo.git?ref=x", "repo"),
     ("https://git.example.org/..", "materials"),
     ("file:///srv/arcs/my%20arc", "my-20arc")],
)
def test_material_directory_defaults_to_a_plain_folder_name(url: str, directory: str) -> None:
    course = parse_course(course_doc({"title": "t", "profile": "base", "seats": {"count": 1},
                                      "materials": [{"git": {"url": url}}]}))
    assert course.materials[0].directory == directory


LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def test_longest_names_give_valid_object_names_and_labels_everywhere() -> None:
    name = ("winter-school." * 20)[:252] + "x"  # 253 chars: the longest Course name
    roster = [{"id": "a" * 40}, {"id": "a" * 39 + "b"}]
    doc = course_doc({"title": "t", "profile": "base", "seats": {"roster": roster}}, name=name)
    assert offline.check_document(doc) == []
    objects = offline.render_course(doc, profiles.default_profiles(), Settings()).objects
    assert len({(o["kind"], o["metadata"]["name"]) for o in objects}) == len(objects) == 12
    for obj in objects:
        assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", obj["metadata"]["name"])
        assert len(obj["metadata"]["name"]) <= 63
        for value in obj["metadata"]["labels"].values():
            assert len(value) <= 63 and LABEL_VALUE.fullmatch(value), value
