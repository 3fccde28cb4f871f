"""`arcdesk validate` and `arcdesk render`, run as a user runs them (typer's CliRunner)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from arcdesk.cli.main import app
from tests.unit.builders import EXAMPLES, REPO

BASIC = str(REPO / "examples" / "course-basic.yaml")
BAD_COURSE = """\
apiVersion: arcdesk.dev/v1alpha1
kind: Course
metadata: {name: broken, namespace: training}
spec:
  title: Broken
  profile: base
  seats: {count: 5000}
  storage: {reclaimPolicy: Keep}
"""


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    # A traceback is never an answer: every failure must be a message and an exit code.
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert "Traceback" not in result.output
    return result


def test_validate_accepts_every_example_as_a_shell_glob_passes_them() -> None:
    result = run("validate", "-f", *map(str, EXAMPLES))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(p) for p in EXAMPLES]
    assert all(": valid (Course " in line or ": valid (DesktopProfile " in line
               for line in lines), lines


def test_validate_prints_one_line_per_problem_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_COURSE)
    result = run("validate", "-f", str(bad))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{bad}: Course broken: spec.seats.count: ")
    assert "less than or equal to 2000" in lines[0]
    assert lines[1].startswith(f"{bad}: Course broken: spec.storage.reclaimPolicy: ")
    assert 'supported values: "Retain", "Delete"' in lines[1]
    assert result.stderr == "error: 2 problems found\n"


def test_validate_checks_every_file_before_failing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_COURSE)
    result = run("validate", "-f", str(bad), "-f", BASIC)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == f"{BASIC}: valid (Course bioimage-101)"


def _render_basic() -> list[dict[str, Any]]:
    result = run("render", "-f", BASIC)
    assert result.exit_code == 0, result.output
    return list(yaml.safe_load_all(result.stdout))


def test_render_prints_every_object_of_every_seat() -> None:
    docs = _render_basic()
    kinds = Counter(d["kind"] for d in docs)
    # Per seat: Seat, Pod, Service, Secret, PVC; per course: NetworkPolicy, instructor Secret.
    assert kinds == {"Seat": 3, "Pod": 3, "Service": 3, "PersistentVolumeClaim": 3,
                     "Secret": 4, "NetworkPolicy": 1}
    seats = sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Pod")
    assert seats == ["bioimage-101-seat-001", "bioimage-101-seat-002", "bioimage-101-seat-003"]


def test_render_never_prints_secret_values() -> None:
    secrets = [d for d in _render_basic() if d["kind"] == "Secret"]
    values = {v for s in secrets for v in s["stringData"].values()}
    assert values == {"<redacted>"}


def test_render_with_a_profile_file(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("apiVersion: arcdesk.dev/v1alpha1\nkind: DesktopProfile\n"
                       "metadata: {name: bioimage}\nspec: {image: my.registry/desk:7}\n")
    result = run("render", "-f", BASIC, "--profile-file", str(profile))
    assert result.exit_code == 0, result.output
    pods = [d for d in yaml.safe_load_all(result.stdout) if d["kind"] == "Pod"]
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"my.registry/desk:7"}


def test_render_names_an_unknown_profile_and_the_known_ones(tmp_path: Path) -> None:
    course = tmp_path / "course.yaml"
    course.write_text(Path(BASIC).read_text().replace("profile: bioimage", "profile: gpu"))
    result = run("render", "-f", str(course))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "DesktopProfile 'gpu' not found (known: arc, base, bioimage)" in result.stderr


def test_render_refuses_an_invalid_course_with_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_COURSE)
    result = run("render", "-f", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "spec.seats.count" in result.stderr and "spec.storage.reclaimPolicy" in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read: No such file or directory"),
     ("spec: [unclosed\n", "line 2, column 1: not valid YAML"),
     (b"\xff\xfe\x00binary", "not a text file"),
     ("# only a comment\n", "no YAML documents found")],
)
@pytest.mark.parametrize("command", ["validate", "render"])
def test_unusable_file_is_one_clear_line_and_a_usage_exit(
    tmp_path: Path, command: str, content: str | bytes | None, expected: str
) -> None:
    path = tmp_path / "course.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = run(command, "-f", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {path}") and expected in result.stderr
