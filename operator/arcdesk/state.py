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
from typing import Any, Generic, TypeVar

from arcdesk import labels
from arcdesk.kube.api import Writer
from arcdesk.model import Course, Profile, parse_course, parse_profile
from arcdesk.settings import Settings
from arcdesk.views import CourseView, ObjectView, ProfileView, SeatView

# Index ids: kopf passes each index to handlers as a keyword argument of this name.
COURSES = "arcdesk_courses"
SEATS = "arcdesk_seats"
PROFILES = "arcdesk_profiles"
STORAGE_CLASSES = "arcdesk_storage_classes"  # name -> volumeBindingMode
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


class Models:
    """Typed Course/Profile models, parsed once per generation (resourceVersion), and
    each course's desired Seats, rendered once per generation and schedule state.

    Only the latest generation of a course is kept: a course that is scaled all day
    would otherwise leave a parsed copy of every generation behind."""

    def __init__(self) -> None:
        self._courses: Latest[tuple[str, str], Course] = Latest()
        self._seats: Latest[tuple[str, str], dict[str, Any]] = Latest()
        self._profiles: Lru[tuple[str, str], Profile] = Lru(64)
        # A seat is reconciled about ten times while it starts; its pod renders the same
        # each time. 128 manifests are about 2.3 MiB.
        self._pods: Lru[tuple[str, ...], dict[str, Any]] = Lru(128)

    def course(self, view: CourseView) -> Course:
        return self._courses.get((view.namespace, view.name), (view.uid, view.generation),
                                 lambda: parse_course(view.body))

    def desired_seats(self, course: Course, running: bool,
                      make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``make()`` (the course's Seat manifests by name), reused until the course's
        generation or ``running`` changes. Callers must not modify the manifests."""
        return self._seats.get((course.namespace, course.name),
                               (course.uid, course.generation, running), make)

    def desired_pod(self, key: tuple[str, ...], make: Callable[[], dict[str, Any]],
                    ) -> dict[str, Any]:
        """``make()`` for ``key`` (everything the pod is rendered from), reused while it is
        among the most recent. Callers must not modify the manifest."""
        return self._pods.get(key, make)

    def forget_course(self, namespace: str, name: str) -> None:
        self._courses.pop((namespace, name))
        self._seats.pop((namespace, name))

    def profile(self, view: ProfileView | None) -> Profile | None:
        if view is None:
            return None
        return self._profiles.get((view.name, view.version), lambda: parse_profile(view.body))


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
