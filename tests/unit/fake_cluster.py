"""A reconcile's world in memory: FakeKube as the API server, and kopf's indexes computed
from it the way the operator's index handlers compute them. ``lagging`` hides objects
from the indexes, as a watch that has not caught up yet does."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from arcdesk.api import views
from arcdesk.api.settings import Settings
from arcdesk.build import profiles
from arcdesk.engine import state
from arcdesk.engine.state import Caches, Context
from arcdesk.kube.fake import FakeKube

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Index = dict[Any, list[Any]]


def _entries(kind: str, body: dict[str, Any]) -> tuple[str, Mapping[Any, Any]] | None:
    """(index id, key -> value) as handlers/*.py index the object; None when not indexed."""
    if kind == "Course":
        return state.COURSES, state.course_keys(views.course_view(body))
    if kind == "Seat":
        return state.SEATS, state.seat_keys(views.seat_view(body))
    if kind == "DesktopProfile":
        return state.PROFILES, {body["metadata"]["name"]: views.profile_view(body)}
    if kind == "StorageClass":
        return state.STORAGE_CLASSES, state.storage_class_keys(body)
    if kind in state.CHILDREN and views.is_arcdesk_object(body):
        return state.CHILDREN[kind], state.child_keys(views.object_view(body))
    return None


class LiveIndices(Mapping[str, Index]):
    """kopf's indexes as of now (recomputed on every lookup: tests are small)."""

    def __init__(self, kube: FakeKube) -> None:
        self.kube = kube
        self.lagging: set[tuple[str, str, str]] = set()

    def __getitem__(self, index_id: str) -> Index:
        found: Index = defaultdict(list)
        for key, obj in self.kube.objects.items():
            entries = None if key in self.lagging else _entries(key[0], copy.deepcopy(obj))
            if entries is not None and entries[0] == index_id:
                for index_key, value in entries[1].items():
                    found[index_key].append(value)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(state.INDEX_IDS)

    def __len__(self) -> int:
        return len(state.INDEX_IDS)


def world(*objects: dict[str, Any]) -> tuple[Context, FakeKube, LiveIndices]:
    """A context over a fake API server holding the built-in profiles and ``objects``."""
    kube = FakeKube()
    for profile in profiles.default_profiles():
        kube.put(profile)
    kube.put({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
              "metadata": {"name": "standard"}, "volumeBindingMode": "WaitForFirstConsumer"})
    for obj in objects:
        kube.put(obj)
    indices = LiveIndices(kube)
    ctx = Context(kube=kube, caches=Caches(indices), clock=lambda: NOW, settings=Settings())
    return ctx, kube, indices


def course_body(count: int = 2, name: str = "bio", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "arcdesk.dev/v1alpha1", "kind": "Course",
            "metadata": {"name": name, "namespace": "training"},
            "spec": {"title": "Bio", "profile": "base", "seats": {"count": count}, **spec}}
