"""Pure desired state: (course, profile, seat) -> manifest dicts, rendered from templates.

Owner references need the owner's uid, which only the API server knows; callers that
have it pass an :class:`Owner`, offline rendering passes ``None``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from arcdesk.api import labels, naming
from arcdesk.api.credentials import SeatCredentials
from arcdesk.api.model import Course, Profile, Trainee
from arcdesk.api.settings import Settings
from arcdesk.build.render import render

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Owner:
    api_version: str
    kind: str
    name: str
    uid: str

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def _meta(
    name: str, namespace: str, lbls: dict[str, str], owner: Owner | None, **annotations: str
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": lbls,
        "annotations": annotations,
        "owner": owner.reference() if owner else None,
    }


def seat(course: Course, trainee: Trainee, state: str, owner: Owner | None) -> Manifest:
    """The Seat object for ``trainee`` (owner: the Course)."""
    meta = _meta(naming.seat_name(course.name, trainee.id), course.namespace,
                 labels.seat_labels(course.name, trainee.id, labels.SEAT_COMPONENT), owner)
    return render("seat.yaml.j2", course=course, trainee=trainee, state=state, **meta)


def seat_selector(course: Course, trainee: Trainee) -> dict[str, str]:
    """Labels that select exactly this seat's desktop pod."""
    return {
        labels.COURSE: naming.label_value(course.name),
        labels.SEAT: trainee.id,
        labels.COMPONENT: labels.DESKTOP_COMPONENT,
    }


def pod(course: Course, profile: Profile, trainee: Trainee, owner: Owner | None) -> Manifest:
    """The desktop Pod (owner: the Seat); admitted under Pod Security ``restricted``."""
    meta = _meta(naming.seat_name(course.name, trainee.id), course.namespace,
                 labels.seat_labels(course.name, trainee.id, labels.DESKTOP_COMPONENT), owner)
    return render(
        "pod.yaml.j2",
        course=course,
        profile=profile,
        trainee=trainee,
        uid=labels.DESKTOP_UID,
        node_selector={**profile.node_selector, **course.node_selector},
        env=_desktop_env(course, profile, trainee),
        resources=_resources(course, profile),
        home_dir=labels.HOME_DIR,
        home_claim=naming.home_claim_name(course.name, trainee.id),
        secrets_dir=labels.SECRETS_DIR,
        novnc_port=labels.NOVNC_PORT,
        agent_port=labels.AGENT_PORT,
        **meta,
    )


def _resources(course: Course, profile: Profile) -> dict[str, Any]:
    memory = course.memory or profile.memory
    limits: dict[str, Any] = {"memory": memory}  # CPU stays burstable; memory is hard-capped
    if profile.gpu:
        limits["nvidia.com/gpu"] = 1
    return {"requests": {"cpu": course.cpu or profile.cpu, "memory": memory}, "limits": limits}


def _desktop_env(course: Course, profile: Profile, trainee: Trainee) -> list[dict[str, str]]:
    materials = [{"git": {"url": m.url, "ref": m.ref, "directory": m.directory}}
                 for m in course.materials]
    apps = [{"name": a.name, "exec": a.exec, "icon": a.icon} for a in profile.apps]
    # No ARCDESK_PROFILE: the image sets it (base/arc/bioimage decides how the home is seeded);
    # a DesktopProfile's name is the admin's choice and says nothing about the image.
    env = {
        "HOME": labels.HOME_DIR,
        "ARCDESK_COURSE": course.name,
        "ARCDESK_COURSE_TITLE": course.title,
        "ARCDESK_SEAT": trainee.id,
        "ARCDESK_TRAINEE": trainee.display_name or trainee.id,
        "ARCDESK_MATERIALS": json.dumps(materials, separators=(",", ":")),
        "ARCDESK_APPS": json.dumps(apps, separators=(",", ":")),
        **dict(profile.env),
    }
    return [{"name": k, "value": v} for k, v in env.items()]


def service(course: Course, trainee: Trainee, owner: Owner | None) -> Manifest:
    """The seat's Service: stable address of websockify and the session agent."""
    meta = _meta(naming.seat_name(course.name, trainee.id), course.namespace,
                 labels.seat_labels(course.name, trainee.id, labels.DESKTOP_COMPONENT), owner)
    return render("service.yaml.j2", selector=seat_selector(course, trainee),
                  novnc_port=labels.NOVNC_PORT, agent_port=labels.AGENT_PORT, **meta)


def secret(
    course: Course, trainee: Trainee, credentials: SeatCredentials, owner: Owner | None,
    generation: int = 1,
) -> Manifest:
    """The seat's Secret: VNC password, view-only password and trainee token."""
    meta = _meta(naming.seat_name(course.name, trainee.id), course.namespace,
                 labels.seat_labels(course.name, trainee.id, labels.CREDENTIALS_COMPONENT), owner,
                 **{labels.SECRET_GENERATION: str(generation)})
    return render("secret.yaml.j2", data=credentials.as_secret_data(), **meta)


def instructor_secret(course: Course, token: str, owner: Owner | None) -> Manifest:
    """The course's instructor token Secret (owner: the Course)."""
    meta = _meta(naming.instructor_secret_name(course.name), course.namespace,
                 labels.common_labels(course.name, labels.INSTRUCTOR_COMPONENT), owner)
    return render("secret.yaml.j2", data={labels.INSTRUCTOR_TOKEN_KEY: token}, **meta)


def home_claim(course: Course, trainee: Trainee, seat_owner: Owner | None) -> Manifest:
    """The home PVC; ownerless under ``reclaimPolicy: Retain`` so deletion never reaches it."""
    owner = seat_owner if course.reclaim_policy == "Delete" else None
    meta = _meta(naming.home_claim_name(course.name, trainee.id), course.namespace,
                 labels.seat_labels(course.name, trainee.id, labels.HOME_COMPONENT), owner)
    return render("pvc.yaml.j2", course=course, **meta)


def network_policy(course: Course, settings: Settings, owner: Owner | None) -> Manifest:
    """One policy per course: ingress only from the gateway, egress to DNS and internet."""
    meta = _meta(naming.course_policy_name(course.name), course.namespace,
                 labels.common_labels(course.name, labels.POLICY_COMPONENT), owner)
    return render(
        "networkpolicy.yaml.j2",
        desktop_selector={labels.COURSE: naming.label_value(course.name),
                          labels.COMPONENT: labels.DESKTOP_COMPONENT},
        gateway_namespace=settings.gateway_namespace,
        gateway_selector=settings.gateway_selector,
        blocked_ipv4=list(settings.blocked_ipv4),
        blocked_ipv6=list(settings.blocked_ipv6),
        novnc_port=labels.NOVNC_PORT,
        agent_port=labels.AGENT_PORT,
        **meta,
    )


def prepull_key(course: Course, profile: Profile) -> str:
    """What one pre-pull DaemonSet stands for: the image, its pull policy, and the nodes the
    course's desktops may land on. Courses that agree share one DaemonSet."""
    placement = {"image": profile.image, "pullPolicy": profile.pull_policy,
                 "nodeSelector": {**profile.node_selector, **course.node_selector},
                 "tolerations": list(profile.tolerations)}
    return hashlib.sha256(json.dumps(placement, sort_keys=True).encode()).hexdigest()


def prepull(course: Course, profile: Profile, namespace: str) -> Manifest:
    """A DaemonSet (in the operator's ``namespace``) that holds the profile's image, idle, on
    every node this course's desktops may land on, so the nodes pull it before trainees come."""
    key = prepull_key(course, profile)
    selector = {labels.PREPULL: key[:12], labels.COMPONENT: labels.PREPULL_COMPONENT}
    lbls = {labels.NAME: "arcdesk", labels.PART_OF: "arcdesk", labels.MANAGED_BY: labels.MANAGER,
            **selector}
    meta = _meta(naming.prepull_name(key), namespace, lbls, None,
                 **{labels.PREPULL_IMAGE: profile.image})
    return render("prepull.yaml.j2", profile=profile, selector=selector,
                  node_selector={**profile.node_selector, **course.node_selector},
                  uid=labels.DESKTOP_UID, **meta)


def seat_children(
    course: Course, profile: Profile, trainee: Trainee, credentials: SeatCredentials,
    seat_owner: Owner | None, running: bool = True,
) -> list[Manifest]:
    """Everything one running seat needs besides the Seat itself, in apply order."""
    objects = [secret(course, trainee, credentials, seat_owner),
               home_claim(course, trainee, seat_owner)]
    if running:
        objects += [service(course, trainee, seat_owner), pod(course, profile, trainee, seat_owner)]
    return objects
