"""Offline validation against the CRD files: the shared invalid table and what must pass.

tests/data/invalid_courses.yaml is also run against the real API server (cluster tier),
so its messages are the API server's; the offline validator must produce them too.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from arcdesk.api import cel_rules, labels, resources
from arcdesk.api.model import parse_course
from arcdesk.api.validation import Problem
from arcdesk.cli.files import parse_documents
from arcdesk.tasks import offline
from tests.invalid_cases import InvalidCase, load_cases, valid_base
from tests.unit.builders import EXAMPLES, course_doc, example

CASES = load_cases()


def test_the_shared_table_has_at_least_15_distinct_cases() -> None:
    assert len(CASES) >= 15
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_invalid_course_is_rejected_at_the_field_with_the_api_server_message(
    case: InvalidCase,
) -> None:
    problems = offline.check_document(case.course())
    at_field = [p.message for p in problems if p.path == case.field]
    assert at_field, f"no problem at {case.field}; got {[str(p) for p in problems]}"
    assert any(case.message in m for m in at_field), at_field


def test_the_valid_base_of_the_table_has_no_problem() -> None:
    assert offline.check_document(course_doc(valid_base())) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid(path: Any) -> None:
    assert offline.check_document(example(path.stem)) == []


def test_every_cel_rule_in_the_crds_is_checked_offline() -> None:
    # A rule celpy cannot compile would silently be left to the API server.
    rules = [r["rule"] for path in resources.crd_files() for r in _rules(yaml.safe_load(
        path.read_text()))]
    assert len(rules) >= 10
    for rule in rules:
        cel_rules._program(rule)


def _rules(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [r for item in node for r in _rules(item)]
    if not isinstance(node, dict):
        return []
    own = node.get("x-kubernetes-validations", [])
    return own + [r for key, v in node.items() if key != "x-kubernetes-validations"
                  for r in _rules(v)]


def _problems(spec_over: dict[str, Any], **meta: Any) -> list[str]:
    return [str(p) for p in offline.check_document(course_doc({**valid_base(), **spec_over},
                                                              **meta))]


def test_crd_defaults_are_applied_before_parsing() -> None:
    course = parse_course(course_doc(valid_base()))
    assert (course.storage_size, course.reclaim_policy, course.suspend) == ("5Gi", "Retain", False)
    assert course.schedule.start is None


def test_empty_fields_mean_unset_as_on_the_api_server() -> None:
    # `idle:` with nothing after it is YAML null; the API server prunes it (or defaults it).
    doc = course_doc({**valid_base(), "idle": None, "storage": None, "schedule": None})
    assert offline.check_document(doc) == []
    course = parse_course(doc)
    assert (course.idle_timeout, course.storage_size, course.schedule.start) == (None, "5Gi", None)


def test_unquoted_timestamps_in_yaml_are_read_as_kubectl_reads_them() -> None:
    (doc,) = parse_documents(
        "apiVersion: arcdesk.dev/v1alpha1\nkind: Course\nmetadata: {name: c}\n"
        "spec: {title: t, profile: base, seats: {count: 1},\n"
        "       schedule: {start: 2026-12-01T08:00:00Z, end: 2026-12-03T17:00:00Z}}\n")
    assert offline.check_document(doc) == []
    assert parse_course(doc).schedule.end is not None


@pytest.mark.parametrize("start", ["2026-12-01 08:00:00Z", "2026-12-01T08:00:00",
                                   "2026-12-01", "2026-02-30T08:00:00Z"])
def test_times_the_api_server_refuses_are_refused(start: str) -> None:
    problems = _problems({"schedule": {"start": start}})
    assert any(p.startswith("spec.schedule.start: ") and "must be of type date-time" in p
               for p in problems), problems


def test_lowercase_t_and_z_are_refused_because_the_api_servers_rules_cannot_parse_them() -> None:
    # The API server's format check allows them, but its CEL rule on spec.schedule then
    # fails with "Invalid date-time formatted string"; say how to fix it instead.
    problems = _problems({"schedule": {"start": "2026-12-01t08:00:00z",
                                       "end": "2026-12-03T08:00:00Z"}})
    assert problems == ['spec.schedule.start: Invalid value: "2026-12-01t08:00:00z": '
                        "write 'T' and 'Z' in upper case, e.g. 2026-12-01T08:00:00Z"]


def test_rule_failures_are_worded_like_the_api_server() -> None:
    assert _problems({"schedule": {"start": "2026-12-03T08:00:00Z",
                                   "end": "2026-12-01T08:00:00Z"}}) == [
        'spec.schedule: Invalid value: "object": schedule.end must be after schedule.start']


def test_a_whole_number_written_as_a_decimal_is_an_integer_as_in_json() -> None:
    assert _problems({"seats": {"count": 3.0}}) == []
    assert len(parse_course(course_doc({**valid_base(), "seats": {"count": 3.0}})).trainees) == 3
    assert any("must be of type integer" in p for p in _problems({"seats": {"count": 2.5}}))


@pytest.mark.parametrize(
    ("meta", "field"),
    [({"name": "Bio-101"}, "metadata.name"), ({"name": "bio_101"}, "metadata.name"),
     ({"name": "x" * 254}, "metadata.name"), ({"namespace": "Training"}, "metadata.namespace")],
)
def test_names_the_api_server_refuses_are_refused(meta: dict[str, str], field: str) -> None:
    doc = course_doc(valid_base())
    doc["metadata"].update(meta)
    messages = [p.message for p in offline.check_document(doc) if p.path == field]
    assert messages and "lowercase RFC 1123" in messages[0], messages


def test_a_dotted_course_name_is_valid() -> None:
    assert offline.check_document(course_doc(valid_base(), name="bio.2026")) == []


@pytest.mark.parametrize(
    ("doc", "expected"),
    [(["a", "list"], Problem("(document)", "must be a mapping with apiVersion, kind, "
                                           "metadata, spec")),
     ({"apiVersion": "v1", "kind": "Pod"}, None),
     ({"apiVersion": "arcdesk.dev/v1", "kind": "Course", "metadata": {"name": "c"},
       "spec": valid_base()}, Problem("apiVersion", "must be 'arcdesk.dev/v1alpha1', got "
                                                    "'arcdesk.dev/v1'"))],
)
def test_documents_that_are_not_arcdesk_objects(doc: Any, expected: Problem | None) -> None:
    problems = offline.check_document(doc)
    if expected is None:
        assert [p.path for p in problems] == ["kind"]
        assert "Unsupported value: 'Pod'" in problems[0].message
    else:
        assert problems == [expected]


def test_misspelt_field_gets_a_suggestion() -> None:
    assert _problems({"sedule": {"start": "2026-12-01T08:00:00Z"}}) == [
        'spec.sedule: unknown field "spec.sedule"; did you mean \'schedule\'?']


def test_too_many_materials_reports_the_count() -> None:
    materials = [{"git": {"url": f"https://e.org/{i}.git"}} for i in range(21)]
    assert _problems({"materials": materials}) == [
        "spec.materials: Too many: 21: must have at most 20 items"]


@pytest.mark.parametrize(
    ("spec_over", "field", "message"),
    [({"image": ""}, "spec.image", "should be at least 1 chars long"),
     ({"imagePullPolicy": "Sometimes"}, "spec.imagePullPolicy", 'Unsupported value: "Sometimes"'),
     ({"datasets": [{"name": "d", "claimName": "c", "mountPath": "data"}]},
      "spec.datasets[0].mountPath", "datasets mountPath must be an absolute path"),
     ({"env": [{"name": "1BAD", "value": "x"}]}, "spec.env[0].name", "should match"),
     ({"gpu": "yes"}, "spec.gpu", "must be of type boolean"),
     ({"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
      "spec.tolerations[0]", "tolerations with operator Exists take no value"),
     ({"tolerations": [{"effect": "NoSchedule"}]},
      "spec.tolerations[0]", "tolerations with operator Equal need a key"),
     ({"tolerations": [{"key": "k", "effect": "Sometimes"}]},
      "spec.tolerations[0].effect", 'Unsupported value: "Sometimes"')],
)
def test_invalid_profiles_are_rejected(spec_over: dict[str, Any], field: str,
                                       message: str) -> None:
    doc = {"apiVersion": labels.API_VERSION, "kind": "DesktopProfile",
           "metadata": {"name": "p"}, "spec": {"image": "r/desktop:1", **spec_over}}
    messages = [p.message for p in offline.check_document(doc) if p.path == field]
    assert any(message in m for m in messages), offline.check_document(doc)
