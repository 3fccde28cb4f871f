"""Pure parts of the instructor CLI: course edits (extend, end, scale), what list/show print,
gateway links, and how API server answers become one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from arcdesk.kube.errors import Call, explain
from arcdesk.kube.kinds import COURSE, PROFILE
from arcdesk.tasks import course_edits, links, summaries
from arcdesk.tasks.course_edits import EditError, Extension, UsageProblem

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def spec(**schedule: str) -> dict[str, object]:
    return {"seats": {"count": 3}, "schedule": schedule}


def test_extend_by_moves_the_end_or_now_when_already_over() -> None:
    by = course_edits.extension(None, "1h30m")
    assert course_edits.extend(spec(end="2026-12-01T17:00:00Z"), by, NOW) == \
        {"spec": {"schedule": {"end": "2026-12-01T18:30:00Z"}}}
    assert course_edits.extend(spec(end="2026-12-01T08:00:00Z"), by, NOW) == \
        {"spec": {"schedule": {"end": "2026-12-01T13:30:00Z"}}}
    assert course_edits.extension(None, "1d").by == timedelta(days=1)


def test_extend_until_and_its_refusals() -> None:
    until = course_edits.extension("2026-12-03T17:00:00Z", None)
    assert course_edits.extend(spec(), until, NOW)["spec"]["schedule"]["end"] == \
        "2026-12-03T17:00:00Z"
    with pytest.raises(EditError, match="is in the past"):
        course_edits.extend(spec(), Extension(until=NOW - timedelta(hours=1)), NOW)
    with pytest.raises(EditError, match="not after the course start"):
        course_edits.extend(spec(start="2026-12-05T08:00:00Z"), until, NOW)
    with pytest.raises(EditError, match="has no end time"):
        course_edits.extend(spec(), Extension(by=timedelta(hours=1)), NOW)


@pytest.mark.parametrize(("until", "by"), [(None, None), ("2026-12-03T17:00:00Z", "2h"),
                                           ("tomorrow", None), (None, "2 hours")])
def test_extension_usage_problems(until: str | None, by: str | None) -> None:
    with pytest.raises(UsageProblem):
        course_edits.extension(until, by)


def test_end_now_drops_a_start_still_ahead() -> None:
    assert course_edits.end(spec(start="2026-12-05T08:00:00Z"), NOW) == \
        {"spec": {"schedule": {"end": "2026-12-01T12:00:00Z", "start": None}}}
    assert course_edits.end(spec(start="2026-12-01T08:00:00Z"), NOW) == \
        {"spec": {"schedule": {"end": "2026-12-01T12:00:00Z"}}}


def test_scale_refuses_a_roster_course() -> None:
    assert course_edits.scale(spec(), "bio", 7) == {"spec": {"replicas": 7}}
    with pytest.raises(EditError, match="roster of 2 named trainees"):
        course_edits.scale({"seats": {"roster": [{"id": "a"}, {"id": "b"}]}}, "bio", 3)


@pytest.mark.parametrize(("stamp", "shown"), [
    ("2026-12-01T11:59:30Z", "30s"), ("2026-12-01T11:55:00Z", "5m"),
    ("2026-12-01T10:30:00Z", "90m"), ("2026-12-01T09:00:00Z", "3h"),
    ("2026-11-30T12:00:00Z", "24h"),
    ("2026-11-25T12:00:00Z", "6d"), (None, "")])
def test_age_reads_like_kubectl(stamp: str | None, shown: str) -> None:
    assert summaries.age(stamp, NOW) == shown


def course(generation: int, observed: int, ready: str, seats: tuple[int, int]) -> dict[str, object]:
    condition = {"type": "Ready", "status": ready, "observedGeneration": observed,
                 "message": f"{seats[0]}/{seats[1]} seats ready"}
    return {"metadata": {"generation": generation},
            "status": {"observedGeneration": observed, "conditions": [condition],
                       "seats": {"ready": seats[0], "desired": seats[1]}}}


def test_progress_is_done_only_for_the_latest_spec() -> None:
    assert summaries.progress(course(2, 2, "True", (5, 5))).done
    stale = summaries.progress(course(3, 2, "True", (5, 5)))  # scaled, not yet seen
    assert not stale.done and (stale.ready, stale.desired) == (5, 5)
    assert not summaries.progress(course(2, 2, "False", (3, 5))).done


def test_seats_come_in_roster_order() -> None:
    def seat(name: str, seat_id: str) -> dict[str, object]:
        return {"metadata": {"name": name}, "spec": {"id": seat_id}}

    roster = {"spec": {"seats": {"roster": [{"id": "zed"}, {"id": "amy"}]}}}
    ordered = summaries.seat_order(roster, [seat("c-amy", "amy"), seat("c-x", "x"),
                                            seat("c-zed", "zed")])
    assert [s["spec"]["id"] for s in ordered] == ["zed", "amy", "x"]


def test_gateway_url_from_option_or_environment() -> None:
    assert links.gateway_url("https://d.example.org/", {}) == "https://d.example.org"
    assert links.gateway_url(None, {links.GATEWAY_ENV: "http://127.0.0.1:8000"}) == \
        "http://127.0.0.1:8000"
    with pytest.raises(links.GatewayUrlError, match="--gateway-url URL or set ARCDESK_GATEWAY"):
        links.gateway_url(None, {})
    with pytest.raises(links.GatewayUrlError, match="is not an http"):
        links.gateway_url("desktops.example.org", {})
    assert links.trainee_link("https://g", "abc") == "https://g/s/abc"
    assert links.view_link("https://g", "ns", "bio", "bio-seat-001") == \
        "https://g/course/ns/bio/seats/bio-seat-001/view"


def status(code: int, reason: str, message: str, **details: object) -> str:
    return json.dumps({"kind": "Status", "code": code, "reason": reason, "message": message,
                       "details": details})


def test_answers_become_one_line() -> None:
    create = Call("create", COURSE, "training", "bio")
    assert explain(create, 409, status(409, "AlreadyExists", "exists", name="bio")) == (
        "course bio already exists in namespace training: use `arcdesk course apply -f "
        "FILE` to change it")
    assert explain(Call("get", PROFILE, None, "gpu"),
                   404, status(404, "NotFound", "not found", name="gpu")) == \
        "desktop profile gpu not found (see `arcdesk profile list`)"
    assert explain(create, 500, status(500, "InternalError", "etcd\nsecond line")) == \
        "the API server answered 500 to create courses.arcdesk.dev: etcd"
    assert explain(create, 503, "upstream down") == \
        "the API server answered 503 to create courses.arcdesk.dev: upstream down"
