"""Pure: small, comparable projections of API objects, kept in the operator's indexes.

Only what reconciling needs is kept (memory stays small with 1000 seats) and never a
Secret's values: a Secret view lists its keys only.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arcdesk.api import conditions, labels

_OUR_ANNOTATIONS = f"{labels.GROUP}/"
_IMAGE_PULL = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
_CONTAINER_ERRORS = {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}


@dataclass(frozen=True)
class OwnerRef:
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool = False


@dataclass(frozen=True)
class PodState:
    phase: str = ""
    node: str = ""
    ip: str = ""
    ready: bool = False
    problem: str = ""  # a conditions.* reason when the desktop cannot start
    detail: str = ""
    image: str = ""


@dataclass(frozen=True)
class ClaimState:
    phase: str = ""  # Pending, Bound or Lost
    storage_class: str = ""


@dataclass(frozen=True)
class Rollout:
    eligible: int  # nodes the DaemonSet should run on
    ready: int  # of those, nodes where its pod is Ready with the current template
    observed: bool = True  # the DaemonSet controller has seen the current template


@dataclass(frozen=True)
class ObjectView:
    """A Pod, Service, Secret, PVC or NetworkPolicy as the operator needs to see it."""

    kind: str
    namespace: str
    name: str
    uid: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)  # arcdesk.dev/* only
    owners: tuple[OwnerRef, ...] = ()
    ours: bool = False  # arcdesk's field manager has written it
    deleting: bool = False
    created: str = ""
    spec: dict[str, Any] = field(default_factory=dict)  # Service and NetworkPolicy only
    pod: PodState | None = None
    claim: ClaimState | None = None
    keys: tuple[str, ...] = ()  # Secret data keys, never values

    @property
    def controller(self) -> OwnerRef | None:
        return next((o for o in self.owners if o.controller), None)


@dataclass(frozen=True)
class SeatView:
    namespace: str
    name: str
    uid: str
    generation: int
    course: str
    seat_id: str
    display_name: str
    state: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    owners: tuple[OwnerRef, ...] = ()
    deleting: bool = False
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def controller(self) -> OwnerRef | None:
        return next((o for o in self.owners if o.controller), None)

    @property
    def spec(self) -> dict[str, Any]:
        return {"course": self.course, "id": self.seat_id, "displayName": self.display_name,
                "state": self.state}

    def ready(self) -> bool:
        """Ready, and the status describes the current spec."""
        return (self.status.get("observedGeneration") == self.generation
                and conditions.is_true(self.status.get("conditions"), conditions.READY))


@dataclass(frozen=True)
class CourseView:
    namespace: str
    name: str
    uid: str
    generation: int
    profile: str
    annotations: dict[str, str]
    deleting: bool
    body: dict[str, Any]  # metadata (name, namespace, uid, generation) and spec, for parsing
    status: dict[str, Any]


@dataclass(frozen=True)
class ProfileView:
    name: str
    version: str  # resourceVersion: parsed profiles are cached per version
    body: dict[str, Any]


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = body.get("metadata") or {}
    return meta


def _owners(meta: Mapping[str, Any]) -> tuple[OwnerRef, ...]:
    return tuple(
        OwnerRef(o.get("apiVersion", ""), o.get("kind", ""), o.get("name", ""), o.get("uid", ""),
                 bool(o.get("controller")))
        for o in meta.get("ownerReferences") or ()
    )


def _our_annotations(meta: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (meta.get("annotations") or {}).items()
            if k.startswith(_OUR_ANNOTATIONS)}


def _written_by_us(meta: Mapping[str, Any]) -> bool:
    return any(m.get("manager") == labels.FIELD_MANAGER for m in meta.get("managedFields") or ())


def is_arcdesk_object(body: Mapping[str, Any]) -> bool:
    """Labelled as arcdesk's, or owned by an arcdesk object (labels may have been edited)."""
    meta = _meta(body)
    if (meta.get("labels") or {}).get(labels.MANAGED_BY) == labels.MANAGER:
        return True
    return any(o.api_version.startswith(_OUR_ANNOTATIONS) for o in _owners(meta))


def object_view(body: Mapping[str, Any]) -> ObjectView:
    meta, kind = _meta(body), str(body.get("kind", ""))
    data = body.get("data") or {}
    return ObjectView(
        kind=kind,
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        labels=dict(meta.get("labels") or {}),
        annotations=_our_annotations(meta),
        owners=_owners(meta),
        ours=_written_by_us(meta),
        deleting=bool(meta.get("deletionTimestamp")),
        created=meta.get("creationTimestamp", ""),
        spec=copy.deepcopy(dict(body.get("spec") or {}))
        if kind in ("Service", "NetworkPolicy") else {},
        pod=pod_state(body) if kind == "Pod" else None,
        claim=claim_state(body) if kind == "PersistentVolumeClaim" else None,
        keys=tuple(sorted(data)) if kind == "Secret" else (),
    )


def rollout(body: Mapping[str, Any]) -> Rollout:
    """A DaemonSet's progress: nodes it should run on, and how many run it Ready with the
    current template (numbers of an older generation count as not ready yet)."""
    status: Mapping[str, Any] = body.get("status") or {}
    current = status.get("observedGeneration") == (_meta(body).get("generation") or 0)
    return Rollout(eligible=int(status.get("desiredNumberScheduled") or 0),
                   ready=min(int(status.get("numberReady") or 0),
                             int(status.get("updatedNumberScheduled") or 0)) if current else 0,
                   observed=current)


def claim_state(body: Mapping[str, Any]) -> ClaimState:
    return ClaimState(phase=(body.get("status") or {}).get("phase", ""),
                      storage_class=(body.get("spec") or {}).get("storageClassName") or "")


def pod_state(body: Mapping[str, Any]) -> PodState:
    status: Mapping[str, Any] = body.get("status") or {}
    by_type = {c.get("type"): c for c in status.get("conditions") or ()}
    ready = by_type.get("Ready", {}).get("status") == "True"
    problem, detail = ("", "") if ready else _pod_problem(status, by_type)
    containers = (body.get("spec") or {}).get("containers") or [{}]
    return PodState(
        phase=status.get("phase", ""),
        node=(body.get("spec") or {}).get("nodeName", ""),
        ip=status.get("podIP", ""),
        ready=ready,
        problem=problem,
        detail=detail,
        image=containers[0].get("image", ""),
    )


def _pod_problem(status: Mapping[str, Any],
                 by_type: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """Why a pod is not becoming ready, as (reason, message); ("", "") when it is just slow."""
    for container in [*status.get("initContainerStatuses", ()),
                      *status.get("containerStatuses", ())]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason, message = waiting.get("reason", ""), waiting.get("message", "")
        text = f"{reason}: {message}" if message else reason
        if reason in _IMAGE_PULL:
            return conditions.IMAGE_PULL_BACK_OFF, text
        if reason == "CrashLoopBackOff":
            return conditions.CRASH_LOOP_BACK_OFF, text
        if reason in _CONTAINER_ERRORS:
            return conditions.CONTAINER_ERROR, text
    scheduled = by_type.get("PodScheduled", {})
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return conditions.UNSCHEDULABLE, scheduled.get("message", "no node fits the desktop")
    if status.get("phase") in ("Failed", "Succeeded"):
        return conditions.DESKTOP_FAILED, status.get("message") or "the desktop pod stopped"
    return "", ""


def seat_view(body: Mapping[str, Any]) -> SeatView:
    meta, spec = _meta(body), body.get("spec") or {}
    return SeatView(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        generation=int(meta.get("generation", 0)),
        course=spec.get("course", ""),
        seat_id=spec.get("id", ""),
        display_name=spec.get("displayName", ""),
        state=spec.get("state", ""),
        labels=dict(meta.get("labels") or {}),
        annotations=_our_annotations(meta),
        owners=_owners(meta),
        deleting=bool(meta.get("deletionTimestamp")),
        status=copy.deepcopy(dict(body.get("status") or {})),
    )


def course_view(body: Mapping[str, Any]) -> CourseView:
    meta, spec = _meta(body), copy.deepcopy(dict(body.get("spec") or {}))
    identity = {k: meta.get(k) for k in ("name", "namespace", "uid", "generation")}
    return CourseView(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        generation=int(meta.get("generation", 0)),
        profile=spec.get("profile", ""),
        annotations=_our_annotations(meta),
        deleting=bool(meta.get("deletionTimestamp")),
        body={"metadata": identity, "spec": spec},
        status=copy.deepcopy(dict(body.get("status") or {})),
    )


def profile_view(body: Mapping[str, Any]) -> ProfileView:
    meta = _meta(body)
    return ProfileView(
        name=meta.get("name", ""),
        version=meta.get("resourceVersion", ""),
        body={"metadata": {"name": meta.get("name", "")},
              "spec": copy.deepcopy(dict(body.get("spec") or {}))},
    )


def controller_of(body: Mapping[str, Any], kind: str) -> str | None:
    """Name of the arcdesk ``kind`` (Seat, Course) that controls ``body``, if any."""
    for owner in _owners(_meta(body)):
        if owner.controller and owner.kind == kind and owner.api_version == labels.API_VERSION:
            return owner.name
    return None
