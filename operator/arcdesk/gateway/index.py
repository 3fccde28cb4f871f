"""The in-memory index of seats, courses, credentials and endpoints. Pure: no I/O.

The watch loops (:mod:`arcdesk.gateway.watch`) feed it API events; request handlers only
read it, so a request never waits for the API server. Every change returns the keys it
touched, so open desktop connections can be re-checked and closed on revocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from arcdesk.api import labels
from arcdesk.gateway import records, tokens
from arcdesk.gateway.records import (
    CourseInfo,
    InstructorSecret,
    Key,
    SeatInfo,
    SeatSecret,
    SliceInfo,
)

COURSE = "Course"
SEAT = "Seat"
SECRET = "Secret"
ENDPOINT_SLICE = "EndpointSlice"
KINDS = (COURSE, SEAT, SECRET, ENDPOINT_SLICE)
DELETED = "DELETED"


class SeatIndex:
    """What every token opens and where every seat's desktop listens, keyed by digest."""

    def __init__(self, digester: tokens.Digester) -> None:
        self.digester = digester
        self._courses: dict[Key, CourseInfo] = {}
        self._seats: dict[Key, SeatInfo] = {}
        self._seat_secrets: dict[Key, SeatSecret] = {}
        self._seat_by_digest: dict[bytes, Key] = {}
        self._instructor_secrets: dict[Key, InstructorSecret] = {}
        self._course_by_digest: dict[bytes, Key] = {}
        self._slices: dict[Key, SliceInfo] = {}
        self._slices_by_service: dict[Key, set[Key]] = {}

    # --- feeding -------------------------------------------------------------------------

    def apply(self, kind: str, event: str, obj: Mapping[str, Any]) -> set[Key]:
        """Apply one watch event (ADDED/MODIFIED/DELETED); returns the seat/course keys touched."""
        key = records.object_key(obj)
        touched = self._remove(kind, key)
        if event != DELETED:
            touched |= self._add(kind, obj)
        return touched

    def replace(self, kind: str, objects: Iterable[Mapping[str, Any]]) -> set[Key]:
        """Replace every object of ``kind`` with a fresh list (after a relist)."""
        touched: set[Key] = set()
        for key in list(self._keys(kind)):
            touched |= self._remove(kind, key)
        for obj in objects:
            touched |= self._add(kind, obj)
        return touched

    def _keys(self, kind: str) -> Iterable[Key]:
        stores: dict[str, Iterable[Key]] = {
            COURSE: self._courses, SEAT: self._seats, ENDPOINT_SLICE: self._slices,
            SECRET: [*self._seat_secrets, *self._instructor_secrets],
        }
        return stores[kind]

    def _add(self, kind: str, obj: Mapping[str, Any]) -> set[Key]:
        if kind == COURSE:
            course = records.parse_course(obj)
            self._courses[course.key] = course
            return {course.key}
        if kind == SEAT:
            seat = records.parse_seat(obj)
            self._seats[seat.key] = seat
            return {seat.key}
        if kind == ENDPOINT_SLICE:
            found = records.parse_slice(obj)
            self._slices[found.key] = found
            service = Key(found.key.namespace, found.service)
            self._slices_by_service.setdefault(service, set()).add(found.key)
            return {service}  # a seat's Service is named after the seat
        return self._add_secret(obj)

    def _add_secret(self, obj: Mapping[str, Any]) -> set[Key]:
        key = records.object_key(obj)
        values = records.secret_values(obj)
        component = records.secret_component(obj)
        token = values.get(labels.TOKEN_KEY, "")
        if component == records.INSTRUCTOR_COMPONENT and tokens.well_formed(token):
            course = Key(key.namespace, records.instructor_course(obj))
            entry = InstructorSecret(key, course.name, self.digester.digest(token))
            self._instructor_secrets[key] = entry
            self._course_by_digest[entry.token_digest] = course
            return {course}
        if component == records.CREDENTIALS_COMPONENT and tokens.well_formed(token):
            seat = SeatSecret(key, self.digester.digest(token),
                              values.get(labels.VNC_PASSWORD_KEY, ""),
                              values.get(labels.VIEW_PASSWORD_KEY, ""))
            self._seat_secrets[key] = seat
            self._seat_by_digest[seat.token_digest] = key
            return {key}
        return set()

    def _remove(self, kind: str, key: Key) -> set[Key]:
        if kind == COURSE:
            return {key} if self._courses.pop(key, None) else set()
        if kind == SEAT:
            return {key} if self._seats.pop(key, None) else set()
        if kind == ENDPOINT_SLICE:
            found = self._slices.pop(key, None)
            if found is not None:
                service = Key(key.namespace, found.service)
                siblings = self._slices_by_service.get(service, set())
                siblings.discard(key)
                if not siblings:
                    self._slices_by_service.pop(service, None)
                return {service}
            return set()
        seat_secret = self._seat_secrets.pop(key, None)
        if seat_secret is not None:
            self._seat_by_digest.pop(seat_secret.token_digest, None)
            return {key}
        instructor = self._instructor_secrets.pop(key, None)
        if instructor is not None:
            self._course_by_digest.pop(instructor.token_digest, None)
            return {Key(key.namespace, instructor.course)}
        return set()

    # --- reading -------------------------------------------------------------------------

    def seat_for_token(self, token: str) -> Key | None:
        """The seat a trainee token opens, if it opens one that exists."""
        if not tokens.well_formed(token):
            return None
        return self.seat_for_digest(self.digester.digest(token))

    def seat_for_digest(self, digest: bytes) -> Key | None:
        key = self._seat_by_digest.get(digest)
        secret = self._seat_secrets.get(key) if key else None
        if key is None or secret is None or not tokens.same(secret.token_digest, digest):
            return None
        return key if key in self._seats else None

    def course_for_token(self, token: str) -> Key | None:
        """The course an instructor token opens."""
        if not tokens.well_formed(token):
            return None
        return self.course_for_digest(self.digester.digest(token))

    def course_for_digest(self, digest: bytes) -> Key | None:
        course = self._course_by_digest.get(digest)
        if course is None:
            return None
        matches = [s for s in self._instructor_secrets.values()
                   if Key(s.key.namespace, s.course) == course]
        if not any(tokens.same(s.token_digest, digest) for s in matches):
            return None
        return course

    def seat(self, key: Key) -> SeatInfo | None:
        return self._seats.get(key)

    def course(self, key: Key) -> CourseInfo | None:
        return self._courses.get(key)

    def credentials(self, key: Key) -> SeatSecret | None:
        return self._seat_secrets.get(key)

    def seats_of(self, course: Key) -> list[SeatInfo]:
        """The course's seats, ordered by seat id."""
        found = [s for s in self._seats.values() if s.course_key == course]
        return sorted(found, key=lambda s: (s.seat_id, s.key.name))

    def upstream(self, seat: Key, port_name: str) -> tuple[str, int] | None:
        """Address of the seat Service's ready endpoint for ``port_name`` (Service name = seat)."""
        candidates = sorted(
            (endpoint.address, endpoint.ports[port_name])
            for slice_key in self._slices_by_service.get(seat, ())
            for endpoint in self._slices[slice_key].endpoints
            if port_name in endpoint.ports
        )
        return candidates[0] if candidates else None

    def counts(self) -> dict[str, int]:
        return {"courses": len(self._courses), "seats": len(self._seats),
                "credentials": len(self._seat_secrets), "endpointslices": len(self._slices)}
