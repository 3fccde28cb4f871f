"""Pure views of the API objects the gateway watches: Course, Seat, Secret, EndpointSlice.

Each parser takes the object as the API server sends it (a dict) and keeps only what the
gateway needs; a Secret's token is kept only as its keyed digest (see :mod:`tokens`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arcdesk.api import labels

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
CREDENTIALS_COMPONENT = labels.CREDENTIALS_COMPONENT
INSTRUCTOR_COMPONENT = labels.INSTRUCTOR_COMPONENT
NOVNC_PORT_NAME = "novnc"
AGENT_PORT_NAME = "agent"


@dataclass(frozen=True, order=True)
class Key:
    """Namespace and name of one object (a Seat and its Service/Secret share the name)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class CourseInfo:
    key: Key
    title: str
    instructor_control: bool
    wake_on_connect: bool


@dataclass(frozen=True)
class SeatInfo:
    key: Key
    course: str
    seat_id: str
    display_name: str
    desired_state: str
    phase: str
    message: str
    idle_stopped: bool
    start_requested: bool

    @property
    def course_key(self) -> Key:
        return Key(self.key.namespace, self.course)


@dataclass(frozen=True)
class SeatSecret:
    """A seat's credentials: the token only as a digest, the passwords as the desktop has them."""

    key: Key
    token_digest: bytes
    vnc_password: str
    view_password: str

    def __repr__(self) -> str:  # never let a traceback or log line print the passwords
        return f"SeatSecret({self.key}, <redacted>)"


@dataclass(frozen=True)
class InstructorSecret:
    key: Key
    course: str
    token_digest: bytes

    def __repr__(self) -> str:
        return f"InstructorSecret({self.key}, course={self.course})"


@dataclass(frozen=True)
class Endpoint:
    address: str
    ports: Mapping[str, int]


@dataclass(frozen=True)
class SliceInfo:
    key: Key
    service: str
    endpoints: tuple[Endpoint, ...]


def object_key(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return Key(str(meta.get("namespace", "")), str(meta.get("name", "")))


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def parse_course(obj: Mapping[str, Any]) -> CourseInfo:
    spec = obj.get("spec") or {}
    key = object_key(obj)
    return CourseInfo(
        key=key,
        title=str(spec.get("title") or key.name),
        instructor_control=bool((spec.get("instructor") or {}).get("control", False)),
        wake_on_connect=bool((spec.get("idle") or {}).get("wakeOnConnect", True)),
    )


def parse_seat(obj: Mapping[str, Any]) -> SeatInfo:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return SeatInfo(
        key=object_key(obj),
        course=str(spec.get("course", "")),
        seat_id=str(spec.get("id", "")),
        display_name=str(spec.get("displayName", "")),
        desired_state=str(spec.get("state", "Running")),
        phase=str(status.get("phase") or "Pending"),
        message=str(status.get("message") or ""),
        idle_stopped=bool(status.get("idleStopped", False)),
        start_requested=labels.START_REQUESTED in annotations,
    )


def _secret_value(obj: Mapping[str, Any], key: str) -> str | None:
    raw = (obj.get("data") or {}).get(key)
    if not isinstance(raw, str):
        return None
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def secret_component(obj: Mapping[str, Any]) -> str:
    return str(_labels(obj).get(labels.COMPONENT, ""))


def secret_values(obj: Mapping[str, Any]) -> dict[str, str]:
    """The decoded string values of a Secret's data (undecodable keys are left out)."""
    values = {}
    for key in (obj.get("data") or {}):
        value = _secret_value(obj, str(key))
        if value is not None:
            values[str(key)] = value
    return values


def instructor_course(obj: Mapping[str, Any]) -> str:
    """The course an instructor Secret belongs to: its owning Course, else its course label."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "Course" and str(ref.get("apiVersion", "")).startswith(labels.GROUP):
            return str(ref.get("name", ""))
    return str(_labels(obj).get(labels.COURSE, ""))


def parse_slice(obj: Mapping[str, Any]) -> SliceInfo:
    """Ready endpoints of an EndpointSlice with their named ports (IPv4/IPv6 slices only)."""
    ports = {str(p.get("name") or ""): int(p["port"])
             for p in obj.get("ports") or [] if p.get("port") is not None}
    endpoints = []
    if obj.get("addressType") in ("IPv4", "IPv6"):
        for endpoint in obj.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            addresses = endpoint.get("addresses") or []
            endpoints += [Endpoint(str(address), ports) for address in addresses]
    return SliceInfo(key=object_key(obj), service=str(_labels(obj).get(SERVICE_NAME_LABEL, "")),
                     endpoints=tuple(endpoints))
