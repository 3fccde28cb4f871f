"""What reconciles read instead of asking the API server: kopf's in-memory indexes of
our objects (kopf fills them from its watches before any handler runs), parse caches,
and the context a reconcile runs in.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from arcdesk.api import labels
from arcdesk.api.model import Course, Profile, parse_course, parse_profile
from arcdesk.api.settings import Settings
from arcdesk.api.views import (
    CourseView,
    ObjectView,
    ProfileView,
    Rollout,
    SeatView,
    object_view,
)
from arcdesk.kube.api import Writer

# Index ids: kopf passes each index to handlers as a keyword argument of this name.
COURSES = "arcdesk_courses"
SEATS = "arcdesk_seats"
PROFILES = "arcdesk_profiles"
STORAGE_CLASSES = "arcdesk_storage_classes"  # name -> volumeBindingMode; DEFAULT -> name
CHILDREN = {"Pod": "arcdesk_pods", "Service": "arcdesk_services", "Secret": "arcdesk_secrets",
            "PersistentVolumeClaim": "arcdesk_claims", "NetworkPolicy": "arcdesk_policies"}
INDEX_IDS = (COURSES, SEATS, PROFILES, STORAGE_CLASSES, *CHILDREN.values())


def course_keys(view: CourseView) -> dict[tuple[str, ...], CourseView]:
    return {("course", view.namespace, view.name): view, ("profile", view.profile): view}


def seat_keys(view: SeatView) -> dict[tuple[str, ...], SeatView]:
    course_label = view.labels.get(labels.COURSE, "")
    return {("seat", view.namespace, view.name): view,
            ("of-course", view.namespace, view.course): view,
            ("by-id", view.namespace, course_label, view.seat_id): view}


DEFAULT_CLASS = ("default",)  # key of the default StorageClasses' names
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def storage_class_keys(body: Mapping[str, Any]) -> dict[Hashable, str]:
    """A StorageClass's binding mode under its name, and its name under DEFAULT_CLASS when
    it is the cluster's default (the class a claim without storageClassName gets)."""
    meta = body.get("metadata") or {}
    name = str(meta.get("name", ""))
    keys: dict[Hashable, str] = {name: str(body.get("volumeBindingMode") or "Immediate")}
    if (meta.get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
        keys[DEFAULT_CLASS] = name
    return keys


def child_keys(view: ObjectView) -> dict[tuple[str, str], ObjectView]:
    return {(view.namespace, view.name): view}


class Caches:
    """Typed lookups in kopf's indexes (which map a key to a store of values)."""

    def __init__(self, indices: Mapping[str, Mapping[Any, Iterable[Any]]]) -> None:
        self._indices = indices

    def _all(self, index: str, key: Hashable) -> list[Any]:
        return list(self._indices[index].get(key, ()))

    def _one(self, index: str, key: Hashable) -> Any:
        return next(iter(self._indices[index].get(key, ())), None)

    def course(self, namespace: str, name: str) -> CourseView | None:
        found: CourseView | None = self._one(COURSES, ("course", namespace, name))
        return found

    def courses(self) -> list[CourseView]:
        return [v for k, store in self._indices[COURSES].items() if k[0] == "course"
                for v in store]

    def courses_using(self, profile: str) -> list[CourseView]:
        return self._all(COURSES, ("profile", profile))

    def seat(self, namespace: str, name: str) -> SeatView | None:
        found: SeatView | None = self._one(SEATS, ("seat", namespace, name))
        return found

    def seats_of(self, namespace: str, course: str) -> list[SeatView]:
        return self._all(SEATS, ("of-course", namespace, course))

    def seat_by_id(self, namespace: str, course_label: str, seat_id: str) -> SeatView | None:
        found: SeatView | None = self._one(SEATS, ("by-id", namespace, course_label, seat_id))
        return found

    def seats(self) -> list[SeatView]:
        return [v for k, store in self._indices[SEATS].items() if k[0] == "seat" for v in store]

    def profile(self, name: str) -> ProfileView | None:
        found: ProfileView | None = self._one(PROFILES, name)
        return found

    def binding_mode(self, storage_class: str) -> str | None:
        """The class's volumeBindingMode; None when the class is not (yet) known."""
        found: str | None = self._one(STORAGE_CLASSES, storage_class)
        return found

    def has_default_class(self) -> bool:
        return bool(self._all(STORAGE_CLASSES, DEFAULT_CLASS))

    def child(self, kind: str, namespace: str, name: str) -> ObjectView | None:
        found: ObjectView | None = self._one(CHILDREN[kind], (namespace, name))
        return found


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A small bounded cache: parsing is cheap, but not 1000 times per second."""

    def __init__(self, size: int) -> None:
        self._size, self._items = size, OrderedDict[K, V]()

    def get(self, key: K, make: Callable[[], V]) -> V:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = self._items[key] = make()
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value


class Latest(Generic[K, V]):
    """One value per key, made again when the key's version changes: only the latest
    generation of anything is kept."""

    def __init__(self) -> None:
        self._items: dict[K, tuple[Hashable, V]] = {}

    def get(self, key: K, version: Hashable, make: Callable[[], V]) -> V:
        found = self._items.get(key)
        if found is None or found[0] != version:
            found = self._items[key] = (version, make())
        return found[1]

    def pop(self, key: K) -> None:
        self._items.pop(key, None)


R = TypeVar("R")


def _token(value: Any) -> Hashable:
    """An argument as part of a cache key: by value when hashable, else by identity."""
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return cast(Hashable, value)


class Renders:
    """Results of pure render functions, reused while called with the same arguments.

    The key is the function and every argument, so no input can be forgotten: hashable
    arguments count by value, the parsed models (which hold dicts) by identity, which is
    sound because Models parses one object per version and an entry keeps its arguments
    alive (an identity is never reused while it is a key). With a ``slot`` (e.g. a
    course), only its latest result is kept; without, the ``size`` most recent."""

    def __init__(self, size: int) -> None:
        self._recent: Lru[tuple[Hashable, ...], tuple[tuple[Any, ...], Any]] = Lru(size)
        self._slots: dict[Hashable, tuple[tuple[Hashable, ...], tuple[Any, ...], Any]] = {}

    def get(self, render: Callable[..., R], *args: Any, slot: Hashable = None) -> R:
        key = (render, *map(_token, args))
        if slot is None:
            return cast(R, self._recent.get(key, lambda: (args, render(*args)))[1])
        found = self._slots.get(slot)
        if found is None or found[0] != key:
            found = self._slots[slot] = (key, args, render(*args))
        return cast(R, found[2])

    def forget(self, slot: Hashable) -> None:
        self._slots.pop(slot, None)


class Models:
    """Typed Course/Profile models, parsed once per generation (resourceVersion), and
    what is rendered from them (a course's Seats, each seat's desktop pod), once per
    set of inputs.

    Only the latest generation of a course is kept: a course that is scaled all day
    would otherwise leave a parsed copy of every generation behind."""

    def __init__(self) -> None:
        self._courses: Latest[tuple[str, str], Course] = Latest()
        self._profiles: Lru[tuple[str, str], Profile] = Lru(64)
        # A seat is reconciled about ten times while it starts; its pod renders the same
        # each time. 128 manifests are about 2.3 MiB.
        self.renders = Renders(128)

    def course(self, view: CourseView) -> Course:
        return self._courses.get((view.namespace, view.name), (view.uid, view.generation),
                                 lambda: parse_course(view.body))

    def forget_course(self, namespace: str, name: str) -> None:
        self._courses.pop((namespace, name))
        self.renders.forget(("course", namespace, name))

    def profile(self, view: ProfileView | None) -> Profile | None:
        if view is None:
            return None
        return self._profiles.get((view.name, view.version), lambda: parse_profile(view.body))


@dataclass(frozen=True)
class Outcome:
    """What a reconcile tells the work queue."""

    requeue_after: float | None = None
    failed: bool = False  # back off before the next try
    follow_up: tuple[tuple[str, str, str], ...] = ()  # more keys to reconcile


@dataclass
class Context:
    """Everything a reconcile needs; the only I/O in it is ``kube``."""

    kube: Writer  # arcdesk.kube.Kube; FakeKube in unit tests
    caches: Caches
    clock: Callable[[], datetime]
    settings: Settings = field(default_factory=Settings.from_environment)
    models: Models = field(default_factory=Models)
    # Per course: what its seats were last reconciled against (generation, profile, stage).
    course_inputs: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)
    # (namespace, name, annotation) -> the request value already acted on.
    acted_requests: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # (kind, namespace, name) -> (when, status) we last wrote; see previous_status().
    written: dict[tuple[str, str, str], tuple[float, dict[str, Any]]] = field(
        default_factory=dict)
    # (kind, namespace, name) -> (when, view) of children we created; see child().
    created: dict[tuple[str, str, str], tuple[float, ObjectView]] = field(default_factory=dict)
    # Pre-pull DaemonSet name -> its last seen rollout (engine.prepull_sync keeps it).
    prepull_rollouts: dict[str, Rollout] = field(default_factory=dict)

    def child(self, kind: str, namespace: str, name: str) -> ObjectView | None:
        """The index's view of a child object, or our own create of moments ago that the
        index has not shown yet (read your writes). Without it a second reconcile would
        POST again: a 409, and for a Pod a charge to the namespace's ResourceQuota that
        stays until the quota controller recounts, refusing other seats meanwhile."""
        key = (kind, namespace, name)
        found = self.caches.child(kind, namespace, name)
        mine = self.created.get(key)
        if found is not None or mine is None:
            self.created.pop(key, None)
            return found
        if time.monotonic() - mine[0] > STATUS_FRESH_SECONDS:
            del self.created[key]
            return None
        return mine[1]

    def remember_created(self, obj: Mapping[str, Any]) -> None:
        view = object_view(obj)
        self.created[(view.kind, view.namespace, view.name)] = (time.monotonic(), view)

    def forget_created(self, kind: str, namespace: str, name: str) -> None:
        self.created.pop((kind, namespace, name), None)

    def previous_status(self, kind: str, namespace: str, name: str,
                        cached: Mapping[str, Any]) -> Mapping[str, Any]:
        """The status to compare with: what we wrote moments ago if the index may not
        have caught up yet (else two quick reconciles would both write and both post
        the same event), otherwise what the index holds."""
        key = (kind, namespace, name)
        found = self.written.get(key)
        if found is None:
            return cached
        when, status = found
        if time.monotonic() - when > STATUS_FRESH_SECONDS or _contains(cached, status):
            del self.written[key]
            return cached
        return status

    def forget(self, kind: str, namespace: str, name: str) -> None:
        """Drop what is remembered about an object that is gone."""
        self.written.pop((kind, namespace, name), None)
        if kind == "Course":
            self.course_inputs.pop((namespace, name), None)
            self.models.forget_course(namespace, name)
        for annotation in [k for k in self.acted_requests if k[:2] == (namespace, name)]:
            del self.acted_requests[annotation]

    def remember_status(self, kind: str, namespace: str, name: str,
                        status: dict[str, Any]) -> None:
        self.written[(kind, namespace, name)] = (time.monotonic(), status)


STATUS_FRESH_SECONDS = 10.0


def _contains(cached: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    return all(cached.get(k) == v for k, v in status.items())
