"""Golden files: every object of a 3-seat course, compared whole to tests/unit/golden/.

Inputs: examples/course-basic.yaml (3 anonymous seats) with the built-in bioimage profile,
fixed owner uids and fixed credentials (see builders.fixed_credentials) in place of the
random ones, so the Secrets are compared in full rather than redacted.

After an intended template change, regenerate and review:

    ARCDESK_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_golden.py -q   # fails: rewritten
    git diff tests/unit/golden/                                             # review
    .venv/bin/pytest tests/unit/test_golden.py -q                           # green
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from arcdesk.api.model import parse_course
from tests.unit.builders import all_objects, default_profile, example

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ARCDESK_UPDATE_GOLDEN") == "1"
HEADER = ("# Golden file for tests/unit/test_golden.py; regenerate with "
          "ARCDESK_UPDATE_GOLDEN=1 and review the diff.\n")


def _rendered() -> dict[str, dict[str, Any]]:
    course = parse_course(example("course-basic"))
    objects = all_objects(course, default_profile(course.profile))
    return {f"{o['kind'].lower()}-{o['metadata']['name']}.yaml": o for o in objects}


RENDERED = _rendered()


def _dump(obj: dict[str, Any]) -> str:
    return yaml.safe_dump(obj, sort_keys=True, allow_unicode=True)


def test_the_course_renders_every_object_of_three_seats() -> None:
    kinds = sorted(o["kind"] for o in RENDERED.values())
    per_seat = ["PersistentVolumeClaim", "Pod", "Seat", "Secret", "Service"]
    assert kinds == sorted(per_seat * 3 + ["NetworkPolicy", "Secret"])


@pytest.mark.parametrize("filename", sorted(RENDERED))
def test_object_matches_its_golden_file(filename: str) -> None:
    path, actual = GOLDEN / filename, RENDERED[filename]
    if UPDATE:
        path.write_text(HEADER + _dump(actual))
        pytest.fail(f"golden file {path.name} rewritten: review `git diff {GOLDEN}`, then "
                    "rerun without ARCDESK_UPDATE_GOLDEN")
    assert path.exists(), f"no golden file {path}: run with ARCDESK_UPDATE_GOLDEN=1"
    expected = yaml.safe_load(path.read_text())
    if actual != expected:
        diff = difflib.unified_diff(_dump(expected).splitlines(), _dump(actual).splitlines(),
                                    "golden", "rendered", lineterm="")
        pytest.fail(f"{filename} differs from its golden file:\n" + "\n".join(diff))


def test_no_stale_golden_files() -> None:
    stale = sorted(p.name for p in GOLDEN.glob("*.yaml") if p.name not in RENDERED)
    if UPDATE and stale:
        for name in stale:
            (GOLDEN / name).unlink()
        pytest.fail(f"removed stale golden files {stale}: review `git status {GOLDEN}`")
    assert not stale, f"golden files nothing renders any more: {stale}"
