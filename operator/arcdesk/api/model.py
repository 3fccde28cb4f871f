"""Typed, immutable views of Course and DesktopProfile objects (pure parsing).

Parsing applies the CRD's defaults first, so the operator and the offline CLI see the
same values the API server would store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from arcdesk.api import naming
from arcdesk.api.resources import crd_schema
from arcdesk.api.schema_defaults import apply_defaults

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_UNSAFE_DIR_CHARS = re.compile(r"[^-A-Za-z0-9_.]+")


def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration such as ``30m`` or ``1h30m``."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid duration {text!r}: use e.g. 30m, 2h or 1h30m")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # RFC 3339 in UTC, as Kubernetes writes times


def format_time(moment: datetime) -> str:
    """``moment`` (aware) as Kubernetes writes times: ``2026-12-03T17:00:00Z``."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``T``/``Z`` in either case) into an aware datetime."""
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))


@dataclass(frozen=True)
class Trainee:
    """One seat of a course."""

    id: str
    display_name: str = ""


@dataclass(frozen=True)
class Schedule:
    start: datetime | None = None
    end: datetime | None = None
    prewarm: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Material:
    url: str
    ref: str
    directory: str


@dataclass(frozen=True)
class Course:
    name: str
    namespace: str
    title: str
    profile: str
    trainees: tuple[Trainee, ...]
    schedule: Schedule = Schedule()
    cpu: str | None = None
    memory: str | None = None
    storage_size: str = "5Gi"
    storage_class: str | None = None
    reclaim_policy: str = "Retain"
    materials: tuple[Material, ...] = ()
    idle_timeout: timedelta | None = None
    wake_on_connect: bool = True
    instructor_control: bool = False
    node_selector: dict[str, str] = field(default_factory=dict)
    suspend: bool = False
    uid: str = ""
    generation: int = 0

    @property
    def seat_ids(self) -> list[str]:
        return [t.id for t in self.trainees]


@dataclass(frozen=True)
class App:
    name: str
    exec: str
    icon: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    claim_name: str
    mount_path: str


@dataclass(frozen=True)
class Profile:
    name: str
    image: str
    pull_policy: str = "IfNotPresent"
    cpu: str = "1"
    memory: str = "2Gi"
    gpu: bool = False
    apps: tuple[App, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    priority_class: str | None = None


def trainees_of(seats: dict[str, Any]) -> tuple[Trainee, ...]:
    """Seats of a course spec: roster entries, or seat-001..seat-N for a count."""
    if "roster" in seats:
        return tuple(Trainee(r["id"], r.get("displayName", "")) for r in seats["roster"])
    return tuple(Trainee(naming.count_seat_id(i)) for i in range(1, int(seats["count"]) + 1))


def parse_course(obj: dict[str, Any]) -> Course:
    """Typed view of a Course object (CRD defaults applied)."""
    obj = apply_defaults(obj, crd_schema("Course"))
    meta, spec = obj.get("metadata", {}), obj["spec"]
    res, storage, idle = spec.get("resources", {}), spec["storage"], spec.get("idle", {})
    return Course(
        name=meta["name"],
        namespace=meta.get("namespace", "default"),
        title=spec["title"],
        profile=spec["profile"],
        trainees=trainees_of(spec["seats"]),
        schedule=_schedule(spec.get("schedule")),
        cpu=_quantity(res.get("cpu")),
        memory=_quantity(res.get("memory")),
        storage_size=str(storage["size"]),
        storage_class=storage.get("storageClassName"),
        reclaim_policy=storage["reclaimPolicy"],
        materials=tuple(_material(m["git"]) for m in spec.get("materials", [])),
        idle_timeout=parse_duration(idle["timeout"]) if "timeout" in idle else None,
        wake_on_connect=idle.get("wakeOnConnect", True),
        instructor_control=spec.get("instructor", {}).get("control", False),
        node_selector=dict(spec.get("nodeSelector", {})),
        suspend=spec["suspend"],
        uid=meta.get("uid", ""),
        generation=int(meta.get("generation", 0)),
    )


def _quantity(value: Any) -> str | None:
    return None if value is None else str(value)


def _schedule(spec: dict[str, Any] | None) -> Schedule:
    if not spec:
        return Schedule()
    return Schedule(
        start=parse_time(spec["start"]) if "start" in spec else None,
        end=parse_time(spec["end"]) if "end" in spec else None,
        prewarm=parse_duration(spec.get("prewarm", "30m")),
    )


def _material(git: dict[str, Any]) -> Material:
    url = git["url"]
    directory = git.get("directory") or _directory_from_url(url)
    return Material(url=url, ref=git.get("ref", "main"), directory=directory)


def _directory_from_url(url: str) -> str:
    """The repository's name as a plain folder name (what the CRD allows for ``directory``).

    The URL's last segment could be '..' or carry a query string; neither may become a
    path under ~/materials.
    """
    last = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    name = _UNSAFE_DIR_CHARS.sub("-", last.removesuffix(".git")).lstrip("-_.")
    return name[:63] or "materials"


def parse_profile(obj: dict[str, Any]) -> Profile:
    """Typed view of a DesktopProfile object (CRD defaults applied)."""
    obj = apply_defaults(obj, crd_schema("DesktopProfile"))
    spec = obj["spec"]
    return Profile(
        name=obj["metadata"]["name"],
        image=spec["image"],
        pull_policy=spec["imagePullPolicy"],
        cpu=str(spec["resources"]["cpu"]),
        memory=str(spec["resources"]["memory"]),
        gpu=spec["gpu"],
        apps=tuple(App(a["name"], a["exec"], a.get("icon", "")) for a in spec.get("apps", [])),
        datasets=tuple(
            Dataset(d["name"], d["claimName"], d["mountPath"]) for d in spec.get("datasets", [])
        ),
        env=tuple((e["name"], e["value"]) for e in spec.get("env", [])),
        node_selector=dict(spec.get("nodeSelector", {})),
        tolerations=tuple(dict(t) for t in spec.get("tolerations", [])),
        priority_class=spec.get("priorityClassName"),
    )
