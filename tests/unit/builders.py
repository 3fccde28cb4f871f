"""Inputs shared by the unit tests: example files, profiles, fixed owners and credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arcdesk.api import labels, naming
from arcdesk.api.credentials import SeatCredentials
from arcdesk.api.model import Course, Profile, Trainee, parse_course, parse_profile
from arcdesk.api.settings import Settings
from arcdesk.build import desired, profiles
from arcdesk.cli.files import load_documents

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


def example(name: str) -> dict[str, Any]:
    """The Course document of ``examples/<name>.yaml``."""
    doc: dict[str, Any] = load_documents(REPO / "examples" / f"{name}.yaml")[0]
    return doc


def default_profile(name: str) -> Profile:
    """A built-in profile as the chart installs it (default registry)."""
    return parse_profile(next(p for p in profiles.default_profiles()
                              if p["metadata"]["name"] == name))


def fixed_credentials(index: int) -> SeatCredentials:
    """Stand-ins for the random credentials the operator generates once per seat.

    ``desired.secret`` takes credentials as an argument precisely so that rendering stays
    pure; tests inject these instead of redacting, so the Secret is compared whole.
    """
    return SeatCredentials(f"vnc{index:05d}", f"view{index:04d}", f"token-{index:03d}-" + "x" * 32)


def course_owner(course: Course) -> desired.Owner:
    return desired.Owner(labels.API_VERSION, "Course", course.name,
                         "11111111-1111-4111-8111-111111111111")


def seat_owner(course: Course, seat: Trainee, index: int) -> desired.Owner:
    return desired.Owner(labels.API_VERSION, "Seat", naming.seat_name(course.name, seat.id),
                         f"22222222-2222-4222-8222-{index:012d}")


def all_objects(course: Course, profile: Profile) -> list[dict[str, Any]]:
    """Everything the operator creates for a running course, in a fixed order."""
    objects = [desired.network_policy(course, Settings(), course_owner(course)),
               desired.instructor_secret(course, "instructor-" + "y" * 32, course_owner(course))]
    for index, trainee in enumerate(course.trainees, start=1):
        objects.append(desired.seat(course, trainee, "Running", course_owner(course)))
        objects += desired.seat_children(course, profile, trainee, fixed_credentials(index),
                                         seat_owner(course, trainee, index))
    return objects


def pods_of(course: Course, profile: Profile) -> list[dict[str, Any]]:
    return [desired.pod(course, profile, t, None) for t in course.trainees]


def every_option_course() -> Course:
    """A Course with every field of the CRD set (roster, schedule, storage Delete, ...)."""
    return parse_course({
        "apiVersion": labels.API_VERSION, "kind": "Course",
        "metadata": {"name": "full", "namespace": "training", "uid": "u-1", "generation": 4},
        "spec": {
            "title": "Everything switched on",
            "profile": "gpu-lab",
            "seats": {"roster": [{"id": "alice", "displayName": "Alice Anders",
                                  "email": "alice@example.org"}, {"id": "bob"}]},
            "schedule": {"start": "2026-12-01T08:00:00Z", "end": "2026-12-03T17:00:00Z",
                         "prewarm": "45m"},
            "resources": {"cpu": "3", "memory": "6Gi"},
            "storage": {"size": "20Gi", "storageClassName": "fast", "reclaimPolicy": "Delete"},
            "materials": [{"git": {"url": "https://git.example.org/g/course-arc.git",
                                   "ref": "v2", "directory": "arc"}},
                          {"git": {"url": "https://git.example.org/g/extra.git"}}],
            "idle": {"timeout": "2h", "wakeOnConnect": False},
            "instructor": {"control": True},
            "nodeSelector": {"pool": "desktops"},
            "suspend": False,
        },
    })


def every_option_profile() -> Profile:
    """A DesktopProfile with datasets, env, GPU, node selector and priority class."""
    return parse_profile({
        "apiVersion": labels.API_VERSION, "kind": "DesktopProfile",
        "metadata": {"name": "gpu-lab"},
        "spec": {
            "image": "registry.example.org/arcdesk/desktop-gpu:1.2",
            "imagePullPolicy": "Always",
            "resources": {"cpu": "1", "memory": "2Gi"},
            "gpu": True,
            "apps": [{"name": "napari", "exec": "napari", "icon": "napari"}],
            "datasets": [{"name": "plants", "claimName": "plant-images",
                          "mountPath": "/data/plants"}],
            "env": [{"name": "NAPARI_ASYNC", "value": "1"}],
            "nodeSelector": {"gpu": "true", "pool": "gpu"},
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                             "effect": "NoSchedule"}],
            "priorityClassName": "desktops",
        },
    })


def course_doc(spec: dict[str, Any], name: str = "bio", **meta: Any) -> dict[str, Any]:
    return {"apiVersion": labels.API_VERSION, "kind": "Course",
            "metadata": {"name": name, "namespace": "training", **meta}, "spec": spec}
