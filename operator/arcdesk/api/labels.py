"""Label and annotation keys, secret keys and ports: the contract between operator,
gateway, CLI and desktop image. Pure; nothing else spells these strings."""

from __future__ import annotations

from arcdesk.api.naming import label_value

GROUP = "arcdesk.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
FIELD_MANAGER = "arcdesk-operator"
GATEWAY_FIELD_MANAGER = "arcdesk-gateway"

COURSE = f"{GROUP}/course"
SEAT = f"{GROUP}/seat"
NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "arcdesk"

# Annotations set by clients to ask the operator for something.
REISSUE_REQUESTED = f"{GROUP}/reissue-requested"  # CLI: new token/passwords for one seat
START_REQUESTED = f"{GROUP}/start-requested"  # gateway: wake an idle-stopped desktop
SECRET_GENERATION = f"{GROUP}/secret-generation"  # on the Secret: bumps on each reissue

# Keys of the per-seat Secret, mounted read-only into the desktop.
VNC_PASSWORD_KEY = "vnc-password"
VIEW_PASSWORD_KEY = "view-password"
TOKEN_KEY = "token"
# Key of the per-course instructor Secret.
INSTRUCTOR_TOKEN_KEY = "token"

# Values of the COMPONENT label: what part of a course an object is.
SEAT_COMPONENT = "seat"
DESKTOP_COMPONENT = "desktop"  # the desktop Pod and its Service
CREDENTIALS_COMPONENT = "credentials"  # a seat's Secret
INSTRUCTOR_COMPONENT = "instructor"  # a course's instructor Secret
HOME_COMPONENT = "home"  # a seat's home PVC
POLICY_COMPONENT = "network-policy"  # a course's NetworkPolicy
PREPULL_COMPONENT = "prepull"  # an image pre-pull DaemonSet and its pods
PREPULL = f"{GROUP}/prepull"  # label: which image and placement a pre-pull DaemonSet holds
PREPULL_IMAGE = f"{GROUP}/image"  # annotation: the image it holds

SECRETS_DIR = "/var/run/arcdesk/secrets"
HOME_DIR = "/home/trainee"
DESKTOP_UID = 1000
NOVNC_PORT = 6080
AGENT_PORT = 8080


def common_labels(course: str, component: str) -> dict[str, str]:
    """Labels on every object arcdesk makes for ``course``."""
    return {
        NAME: "arcdesk",
        INSTANCE: label_value(course),
        COMPONENT: component,
        PART_OF: "arcdesk",
        MANAGED_BY: MANAGER,
        COURSE: label_value(course),
    }


def seat_labels(course: str, seat_id: str, component: str) -> dict[str, str]:
    """Labels on a seat's objects (Seat, Pod, Service, Secret, PVC)."""
    return {**common_labels(course, component), SEAT: seat_id}


def course_selector(course: str) -> str:
    """Label selector matching every object of ``course``."""
    return f"{COURSE}={label_value(course)}"


def seats_selector(course: str) -> str:
    """Label selector matching the Seats of ``course`` (the scale subresource's too)."""
    return f"{course_selector(course)},{COMPONENT}={SEAT_COMPONENT}"
