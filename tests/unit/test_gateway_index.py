"""The gateway's seat index: what each token opens, revocation, endpoints, relists."""

from __future__ import annotations

import copy
import pickle

import pytest

from arcdesk.api import labels
from arcdesk.api.credentials import new_token
from arcdesk.gateway import pages
from arcdesk.gateway.index import COURSE, DELETED, ENDPOINT_SLICE, SEAT, SECRET, SeatIndex
from arcdesk.gateway.records import AGENT_PORT_NAME, NOVNC_PORT_NAME, CourseInfo, Key, SeatInfo
from arcdesk.gateway.tokens import Digester
from tests.unit.gateway_helpers import endpoint_slice, load, make_course, stored

pytestmark = pytest.mark.unit


def test_each_trainee_token_opens_exactly_its_own_seat() -> None:
    index = SeatIndex(Digester())
    course = make_course(seats=3)
    load(index, course)
    opened = [index.seat_for_token(seat.token) for seat in course.seats]
    assert opened == [seat.key for seat in course.seats]
    assert index.course_for_token(course.seats[0].token) is None
    assert index.seat_for_token(course.instructor_token) is None
    assert index.course_for_token(course.instructor_token) == course.key


@pytest.mark.parametrize("token", ["", "short", "a" * 129, "has space" + "x" * 20,
                                   "../../etc/passwd" + "x" * 10, "tok%2Fen" + "x" * 20,
                                   "ü" * 30])
def test_malformed_tokens_open_nothing(token: str) -> None:
    index = SeatIndex(Digester())
    load(index, make_course())
    assert index.seat_for_token(token) is None
    assert index.course_for_token(token) is None


def test_unknown_well_formed_token_opens_nothing() -> None:
    index = SeatIndex(Digester())
    load(index, make_course())
    assert index.seat_for_token(new_token()) is None


def test_reissued_token_revokes_the_old_one_and_reports_the_seat() -> None:
    index = SeatIndex(Digester())
    course = make_course()
    load(index, course)
    seat = course.seats[0]
    secret = copy.deepcopy(seat.secret)
    fresh = new_token()
    secret["data"][labels.TOKEN_KEY] = stored({"stringData": {"t": fresh}})["data"]["t"]
    touched = index.apply(SECRET, "MODIFIED", secret)
    assert seat.key in touched
    assert index.seat_for_token(seat.token) is None
    assert index.seat_for_token(fresh) == seat.key


def test_deleted_seat_or_secret_closes_the_door() -> None:
    index = SeatIndex(Digester())
    course = make_course()
    load(index, course)
    first, second = course.seats
    assert index.apply(SEAT, DELETED, first.seat) == {first.key}
    assert index.seat_for_token(first.token) is None  # its Secret may linger until GC
    assert index.apply(SECRET, DELETED, second.secret) == {second.key}
    assert index.seat_for_token(second.token) is None


def test_instructor_secret_deletion_revokes_the_course_token() -> None:
    index = SeatIndex(Digester())
    course = make_course()
    load(index, course)
    assert index.apply(SECRET, DELETED, course.instructor_secret) == {course.key}
    assert index.course_for_token(course.instructor_token) is None


def test_upstream_comes_from_ready_endpoints_of_the_seat_service() -> None:
    index = SeatIndex(Digester())
    course = make_course()
    load(index, course, address="10.1.2.3", novnc=16080, agent=18080)
    first, second = course.seats
    assert index.upstream(first.key, NOVNC_PORT_NAME) == ("10.1.2.3", 16080)
    assert index.upstream(first.key, AGENT_PORT_NAME) == ("10.1.2.3", 18080)
    not_ready = endpoint_slice(second.key, "10.9.9.9", 1, 2)
    not_ready["endpoints"][0]["conditions"]["ready"] = False
    index.apply(ENDPOINT_SLICE, "MODIFIED", not_ready)
    assert index.upstream(second.key, NOVNC_PORT_NAME) is None
    index.apply(ENDPOINT_SLICE, DELETED, endpoint_slice(first.key, "10.1.2.3", 16080, 18080))
    assert index.upstream(first.key, NOVNC_PORT_NAME) is None


def test_relist_replaces_a_kind_and_forgets_deletions_missed_while_disconnected() -> None:
    index = SeatIndex(Digester())
    course = make_course(seats=3)
    load(index, course)
    survivors = course.seats[1:]
    touched = index.replace(SECRET, [course.instructor_secret, *(s.secret for s in survivors)])
    assert course.seats[0].key in touched
    assert index.seat_for_token(course.seats[0].token) is None
    assert [index.seat_for_token(s.token) for s in survivors] == [s.key for s in survivors]
    index.replace(SEAT, [])
    assert index.seats_of(course.key) == []


def test_index_holds_no_token_in_clear() -> None:
    index = SeatIndex(Digester())
    course = make_course()
    load(index, course)
    state = pickle.dumps(vars(index))
    for token in [course.instructor_token, *(s.token for s in course.seats)]:
        assert token.encode() not in state


def test_seats_of_lists_only_that_course_in_seat_order() -> None:
    index = SeatIndex(Digester())
    other = make_course(name="other", seats=1)
    course = make_course(seats=3)
    load(index, other)
    load(index, course)
    assert [s.seat_id for s in index.seats_of(course.key)] == ["seat-001", "seat-002", "seat-003"]
    index.apply(COURSE, DELETED, course.course)
    assert index.course(course.key) is None


def _seat(phase: str, idle: bool = False, desired: str = "Running",
          requested: bool = False) -> SeatInfo:
    return SeatInfo(Key("ns", "c-s"), "c", "s", "", desired, phase, "", idle, requested)


def _course(wake: bool) -> CourseInfo:
    return CourseInfo(Key("ns", "c"), "C", False, wake)


@pytest.mark.parametrize(("seat", "course", "reachable", "state", "can_start"), [
    (_seat("Running"), _course(True), True, "ready", False),
    (_seat("Running"), _course(True), False, "starting", False),
    (_seat("Starting"), _course(True), False, "starting", False),
    (_seat("Stopped", idle=True), _course(True), False, "startable", True),
    (_seat("Stopped", idle=True), _course(False), False, "stopped", False),
    (_seat("Stopped", idle=True), None, False, "startable", True),
    (_seat("Stopped", desired="Stopped"), _course(True), False, "stopped", False),
    (_seat("Stopped", idle=True, requested=True), _course(True), False, "starting", False),
    (_seat("Failed"), _course(True), False, "failed", False),
])
def test_landing_page_offers_connect_start_or_explains(
        seat: SeatInfo, course: CourseInfo | None, reachable: bool, state: str,
        can_start: bool) -> None:
    view = pages.seat_view(seat, course, reachable)
    assert (view.state, view.can_start, view.can_connect) == (state, can_start, state == "ready")
