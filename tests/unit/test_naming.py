"""Names: the only place object names are made (naming.py), as a table of cases."""

from __future__ import annotations

import re

import pytest

from arcdesk.api import labels, naming

DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LONG_COURSE = "introduction-to-bioimage-analysis-with-napari-and-arcs-winter-term"  # 66 chars


def assert_valid_name(name: str) -> None:
    assert len(name) <= 63, f"{name!r} is {len(name)} chars"
    assert DNS_1035.match(name), f"{name!r} is not a DNS-1035 label"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("bioimage-101", "seat-001"), "bioimage-101-seat-001"),
        (("arc-intro", "alice"), "arc-intro-alice"),
        (("arc-intro", "alice", "home"), "arc-intro-alice-home"),
        (("a" * 63,), "a" * 63),  # exactly at the limit: unchanged
    ],
)
def test_valid_names_are_used_unchanged(parts: tuple[str, ...], expected: str) -> None:
    assert naming.safe_name(*parts) == expected


@pytest.mark.parametrize(
    ("parts", "readable_head"),
    [
        (("Bioimage-101", "seat-001"), "bioimage-101-seat-001-"),  # uppercase folded
        (("kurs.2026", "alice"), "kurs-2026-alice-"),  # '.' is not allowed in a Service name
        (("zoë", "seat_1"), "zo-seat-1-"),  # unicode and '_' become '-'
        (("2026-bioimage", "bob"), "x-2026-bioimage-bob-"),  # must start with a letter
        (("--arc--", "--x--"), "arc-x-"),  # runs of '-' collapse, edges are trimmed
    ],
)
def test_normalised_names_keep_a_readable_head_and_a_hash(
    parts: tuple[str, ...], readable_head: str
) -> None:
    name = naming.safe_name(*parts)
    assert_valid_name(name)
    assert name.startswith(readable_head)
    assert re.fullmatch(r"[0-9a-f]{8}", name.removeprefix(readable_head)), name


@pytest.mark.parametrize(
    "parts", [(LONG_COURSE, "seat-001"), ("x" * 300,), (LONG_COURSE, "a" * 40)]
)
def test_long_names_are_cut_to_63_with_a_hash_suffix(parts: tuple[str, ...]) -> None:
    name = naming.safe_name(*parts)
    assert_valid_name(name)
    head, suffix = name.rsplit("-", 1)
    assert "-".join(parts).startswith(head)
    assert len(head) >= 50, "the readable head should use most of the 63 characters"
    assert re.fullmatch(r"[0-9a-f]{8}", suffix)


def test_hash_suffix_is_stable_across_calls_and_releases() -> None:
    # Pinned (sha256 of the joined input): a new hash would rename every existing object.
    assert naming.seat_name(LONG_COURSE, "seat-001") == (
        "introduction-to-bioimage-analysis-with-napari-and-arcs-73191c33"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((LONG_COURSE, "seat-001"), (LONG_COURSE, "seat-002")),  # differ only after the cut
        (("A_b",), ("a-b",)),  # normalise to the same text
        (("Alice",), ("alice",)),
        (("zoë",), ("zoé",)),
    ],
)
def test_distinct_inputs_give_distinct_names(
    first: tuple[str, ...], second: tuple[str, ...]
) -> None:
    assert naming.safe_name(*first) != naming.safe_name(*second)


@pytest.mark.parametrize("parts", [("",), ("🔬",), ("---",), ("ü", "ö")])
def test_input_without_usable_characters_is_rejected(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="cannot make a Kubernetes name"):
        naming.safe_name(*parts)


def test_object_names_of_one_seat() -> None:
    assert naming.seat_name("bio", "alice") == "bio-alice"
    assert naming.home_claim_name("bio", "alice") == "bio-alice-home"
    assert naming.course_policy_name("bio") == "bio-desktops"
    assert naming.instructor_secret_name("bio") == "bio-instructor"


@pytest.mark.parametrize(
    ("index", "seat_id"),
    [(1, "seat-001"), (42, "seat-042"), (999, "seat-999"), (2000, "seat-2000")],
)
def test_count_seat_ids_sort_naturally_up_to_999(index: int, seat_id: str) -> None:
    assert naming.count_seat_id(index) == seat_id


def test_every_seat_object_name_fits_for_the_longest_inputs() -> None:
    course, seat = "c" * 253, "s" * 40  # longest course name (DNS subdomain) and roster id
    for name in (naming.seat_name(course, seat), naming.home_claim_name(course, seat),
                 naming.course_policy_name(course), naming.instructor_secret_name(course)):
        assert_valid_name(name)


@pytest.mark.parametrize("course", ["bio", "x" * 63, "y" * 64, "kurs.2026." + "z" * 200])
def test_label_values_fit_and_stay_distinct(course: str) -> None:
    value = naming.label_value(course)
    assert len(value) <= 63
    assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", value)
    assert naming.label_value(course + "2") != value
    assert labels.course_selector(course) == f"arcdesk.dev/course={value}"
