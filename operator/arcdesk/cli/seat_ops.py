"""What the `seats` and `handout` verbs do against the cluster: seat rows, personal links
read from the seats' Secrets, re-issuing credentials, view-only links.

Tokens are read only here, only when a link was asked for, and never logged.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arcdesk.api import labels, naming
from arcdesk.cli.course_ops import now, seats_of
from arcdesk.cli.options import CommandError
from arcdesk.kube import ApiError
from arcdesk.kube.blocking import Cluster
from arcdesk.kube.kinds import COURSE, SEAT, SECRET
from arcdesk.tasks import links, summaries
from arcdesk.tasks.course_edits import timestamp
from arcdesk.tasks.handout import Card

POLL_SECONDS = 0.5


def _token(secret: Mapping[str, Any], key: str) -> str | None:
    raw = (secret.get("data") or {}).get(key)
    try:
        return base64.b64decode(raw, validate=True).decode() if isinstance(raw, str) else None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _tokens(cluster: Cluster, course: str) -> dict[str, str]:
    """Trainee tokens by Secret (= Seat) name."""
    selector = f"{labels.course_selector(course)},{labels.COMPONENT}={labels.CREDENTIALS_COMPONENT}"
    found = {}
    for secret in cluster.list(SECRET, selector=selector):
        token = _token(secret, labels.TOKEN_KEY)
        if token:
            found[str(secret["metadata"]["name"])] = token
    return found


def _link(tokens: Mapping[str, str], gateway: str, seat: Mapping[str, Any]) -> str:
    name = str(seat["metadata"]["name"])
    if name not in tokens:
        raise CommandError(f"seat {seat['spec'].get('id', name)} has no link yet: the operator "
                           "has not made its credentials (try `arcdesk course show`)")
    return links.trainee_link(gateway, tokens[name])


def seat_rows(cluster: Cluster, course: str, gateway: str | None) -> list[dict[str, Any]]:
    """One row per seat in roster order; with ``gateway``, each row has its personal link."""
    found = cluster.get(COURSE, course)
    seats = summaries.seat_order(found, seats_of(cluster, course))
    at = now()
    rows = [summaries.seat_row(seat, at) for seat in seats]
    if gateway is not None:
        tokens = _tokens(cluster, course)
        for row, seat in zip(rows, seats, strict=True):
            row["link"] = _link(tokens, gateway, seat)
    return rows


def cards(cluster: Cluster, course: str, gateway: str) -> list[Card]:
    """Handout cards: one per seat, in roster order."""
    found = cluster.get(COURSE, course)
    spec = found.get("spec") or {}
    emails = {r.get("id"): r.get("email", "") for r in spec.get("seats", {}).get("roster", [])}
    start = (spec.get("schedule") or {}).get("start")
    when = f"Starts {start}" if start else ""
    tokens = _tokens(cluster, course)
    seats = summaries.seat_order(found, seats_of(cluster, course))
    return [Card(course=course, title=str(spec.get("title", course)),
                 seat=str(s["spec"]["id"]), name=str(s["spec"].get("displayName", "")),
                 email=str(emails.get(s["spec"]["id"], "")), link=_link(tokens, gateway, s),
                 when=when) for s in seats]


def find_seat(cluster: Cluster, course: str, seat: str) -> dict[str, Any]:
    """The Seat ``seat`` (an id as `seats list` shows it, or the object's name) of
    ``course``."""
    cluster.get(COURSE, course)
    for name in dict.fromkeys((naming.seat_name(course, seat), seat)):
        try:
            found = cluster.get(SEAT, name)
        except ApiError:
            continue
        if (found.get("spec") or {}).get("course") == course:
            return found
    raise CommandError(f"seat {seat} not found in course {course} (see `arcdesk seats list "
                       f"{course}`)")


def _generation(secret: Mapping[str, Any]) -> int:
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    return int(annotations.get(labels.SECRET_GENERATION, "1"))


@dataclass(frozen=True)
class Reissued:
    seat: str
    generation: int
    token: str


def reissue(cluster: Cluster, course: str, seat: str, timeout: float) -> Reissued:
    """Ask the operator for a new token and passwords; wait until the Secret has them."""
    found = find_seat(cluster, course, seat)
    name = str(found["metadata"]["name"])
    before = _generation(cluster.get(SECRET, name))
    cluster.patch(SEAT, name, {"metadata": {"annotations": {
        labels.REISSUE_REQUESTED: timestamp(now())}}})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        secret = cluster.get(SECRET, name)
        token = _token(secret, labels.TOKEN_KEY)
        if _generation(secret) > before and token:
            return Reissued(str(found["spec"]["id"]), _generation(secret), token)
        time.sleep(POLL_SECONDS)
    raise CommandError(f"timed out after {timeout:.0f}s waiting for the operator to re-issue "
                       f"seat {seat}'s credentials: is the operator running?")


def shadow(cluster: Cluster, course: str, seat: str, gateway: str) -> dict[str, str]:
    """The view-only page of one seat and the instructor link that unlocks it."""
    found = find_seat(cluster, course, seat)
    secret = cluster.get(SECRET, naming.instructor_secret_name(course))
    token = _token(secret, labels.INSTRUCTOR_TOKEN_KEY)
    if not token:
        raise CommandError(f"course {course} has no instructor link yet: the operator has not "
                           "made it (try `arcdesk course show`)")
    namespace = str(found["metadata"]["namespace"])
    return {"seat": str(found["spec"]["id"]),
            "view": links.view_link(gateway, namespace, course, str(found["metadata"]["name"])),
            "instructor": links.instructor_link(gateway, token)}
