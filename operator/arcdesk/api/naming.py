"""Pure name-making: the only place arcdesk builds Kubernetes object names.

Every name is a DNS-1035 label (lowercase alphanumerics and '-', starts with a letter,
at most 63 characters) so it is valid for any kind, Services included. Input that is
already a valid name is used unchanged. Uppercase is folded to lowercase and any other
character becomes '-'; a name that would be longer than 63 characters is cut and given
a stable 8-character hash suffix of the full name, so two long names never collide.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 63
HASH_LEN = 8
_INVALID = re.compile(r"[^a-z0-9-]+")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def is_dns_label(value: str) -> bool:
    """True if ``value`` is a DNS-1035 label of at most 63 characters."""
    return len(value) <= MAX_NAME and bool(_DNS_LABEL.match(value))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:HASH_LEN]


def safe_name(*parts: str) -> str:
    """Join ``parts`` with '-' into a DNS-1035 label; hash-suffixed when normalised or cut.

    Raises ValueError when nothing usable is left (e.g. only unicode symbols).
    """
    raw = "-".join(parts)
    if is_dns_label(raw):
        return raw
    cleaned = re.sub(r"-{2,}", "-", _INVALID.sub("-", raw.lower())).strip("-")
    if not cleaned:
        raise ValueError(f"cannot make a Kubernetes name from {raw!r}: use letters, digits, '-'")
    if not cleaned[0].isalpha():
        cleaned = "x-" + cleaned
    # Normalised or too long: a hash of the raw input keeps distinct inputs distinct.
    head = cleaned[: MAX_NAME - HASH_LEN - 1].rstrip("-")
    return f"{head}-{_hash(raw)}"


def seat_name(course: str, seat_id: str) -> str:
    """Name of a Seat and of its Pod, Service and Secret."""
    return safe_name(course, seat_id)


def home_claim_name(course: str, seat_id: str) -> str:
    """Name of a seat's home PersistentVolumeClaim."""
    return safe_name(course, seat_id, "home")


def prepull_name(placement_key: str) -> str:
    """Name of the pre-pull DaemonSet for one image and placement (a digest of both)."""
    return f"arcdesk-prepull-{placement_key[:12]}"


def course_policy_name(course: str) -> str:
    """Name of the course's NetworkPolicy."""
    return safe_name(course, "desktops")


def instructor_secret_name(course: str) -> str:
    """Name of the Secret holding the course's instructor token."""
    return safe_name(course, "instructor")


def count_seat_id(index: int) -> str:
    """Seat id of the ``index``-th seat (1-based) of a count-based course."""
    return f"seat-{index:03d}" if index < 1000 else f"seat-{index}"


def label_value(value: str) -> str:
    """A label value (≤ 63 chars) standing for ``value``; long values are hash-cut."""
    if len(value) <= MAX_NAME:
        return value
    return f"{value[: MAX_NAME - HASH_LEN - 1].rstrip('-.')}-{_hash(value)}"
