"""Pure: status conditions (Ready, Progressing, Degraded) with observedGeneration.

Condition types and reasons are constants here so that the operator, the CLI and the
tests spell them the same way. A condition keeps its lastTransitionTime until its
status flips, so an unchanged status compares equal and is never re-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arcdesk.api.model import format_time

READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
IMAGES_READY = "ImagesReady"  # Courses: every eligible node holds the desktop image
TYPES = (READY, PROGRESSING, DEGRADED, IMAGES_READY)

# Reasons, CamelCase. Healthy states:
AS_EXPECTED = "AsExpected"
DESKTOP_READY = "DesktopReady"
ALL_SEATS_READY = "AllSeatsReady"
SEATS_NOT_READY = "SeatsNotReady"
PROVISIONING = "Provisioning"
STARTING = "Starting"
STOPPING = "Stopping"
SCHEDULED = "Scheduled"
SUSPENDED = "Suspended"
ENDED = "Ended"
IDLE = "Idle"
UPDATE_PENDING = "UpdatePending"
WAITING_FOR_CLEANUP = "WaitingForCleanup"
# Problems a user has to look at:
PROFILE_NOT_FOUND = "ProfileNotFound"
NAME_CONFLICT = "NameConflict"
QUOTA_EXCEEDED = "ResourceQuotaExceeded"
UNSCHEDULABLE = "Unschedulable"
STORAGE_CLASS_NOT_FOUND = "StorageClassNotFound"
NO_DEFAULT_STORAGE_CLASS = "NoDefaultStorageClass"
IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
CONTAINER_ERROR = "ContainerError"
DESKTOP_FAILED = "DesktopFailed"
API_ERROR = "ApiError"
SEATS_DEGRADED = "SeatsDegraded"
IMAGES_PULLED = "ImagesPulled"
IMAGES_PULLING = "ImagesPulling"
NO_ELIGIBLE_NODES = "NoEligibleNodes"
NOT_PULLING = "NotPulling"  # suspended, ended, or no profile: nothing to pre-pull


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool
    reason: str
    message: str = ""


def _timestamp(now: datetime) -> str:
    return format_time(now)


def merge(
    existing: Sequence[Mapping[str, Any]] | None,
    wanted: Iterable[Condition],
    generation: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The new conditions list, in TYPES order; lastTransitionTime kept unless status flips."""
    previous = {c.get("type"): c for c in existing or ()}
    merged = []
    for condition in sorted(wanted, key=lambda c: TYPES.index(c.type)):
        status = "True" if condition.status else "False"
        merged.append({
            "type": condition.type,
            "status": status,
            "reason": condition.reason,
            "message": condition.message,
            "observedGeneration": generation,
            "lastTransitionTime": _transition_time(previous.get(condition.type), status, now),
        })
    return merged


def _transition_time(before: Mapping[str, Any] | None, status: str, now: datetime) -> str:
    if before is None or before.get("status") != status or "lastTransitionTime" not in before:
        return _timestamp(now)
    return str(before["lastTransitionTime"])


def find(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> Mapping[str, Any] | None:
    """The condition of ``type_``, if present."""
    return next((c for c in conditions or () if c.get("type") == type_), None)


def is_true(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> bool:
    found = find(conditions, type_)
    return found is not None and found.get("status") == "True"
