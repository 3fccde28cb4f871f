"""The one table of the Kubernetes kinds arcdesk reads or writes, and their API paths. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from arcdesk.api import labels

ALL_NAMESPACES = "*"
OURS = f"apis/{labels.API_VERSION}"


@dataclass(frozen=True)
class Kind:
    kind: str  # as in a manifest, e.g. "Course"
    prefix: str  # api/v1 or apis/<group>/<version>
    plural: str
    noun: str  # what a person calls one, e.g. "course"
    namespaced: bool = True
    command: str = ""  # the `arcdesk` noun that lists them, if any

    @property
    def group(self) -> str:
        return self.prefix.split("/")[1] if self.prefix.startswith("apis/") else ""

    @property
    def version(self) -> str:
        return self.prefix.rsplit("/", 1)[1]

    @property
    def resource(self) -> str:
        """``plural.group`` as RBAC and kubectl spell it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def ours(self) -> bool:
        return self.prefix == OURS

    def path(self, namespace: str | None, name: str | None = None,
             subresource: str | None = None) -> str:
        """The URL path of the collection (no name) or of one object; ``ALL_NAMESPACES`` or
        None lists across namespaces."""
        parts = [self.prefix]
        if self.namespaced and namespace and namespace != ALL_NAMESPACES:
            parts += ["namespaces", quote(namespace, safe="")]
        parts.append(self.plural)
        parts += [quote(name, safe="")] if name else []
        parts += [subresource] if subresource else []
        return "/" + "/".join(parts)


COURSE = Kind("Course", OURS, "courses", "course", command="course")
SEAT = Kind("Seat", OURS, "seats", "seat")
PROFILE = Kind("DesktopProfile", OURS, "desktopprofiles", "desktop profile",
               namespaced=False, command="profile")
POD = Kind("Pod", "api/v1", "pods", "pod")
SERVICE = Kind("Service", "api/v1", "services", "service")
SECRET = Kind("Secret", "api/v1", "secrets", "secret")
CLAIM = Kind("PersistentVolumeClaim", "api/v1", "persistentvolumeclaims", "home volume")
EVENT = Kind("Event", "api/v1", "events", "event")
NODE = Kind("Node", "api/v1", "nodes", "node", namespaced=False)
NAMESPACE = Kind("Namespace", "api/v1", "namespaces", "namespace", namespaced=False)
NETWORK_POLICY = Kind("NetworkPolicy", "apis/networking.k8s.io/v1", "networkpolicies",
                      "network policy")
ENDPOINT_SLICE = Kind("EndpointSlice", "apis/discovery.k8s.io/v1", "endpointslices",
                      "endpoint slice")
DAEMON_SET = Kind("DaemonSet", "apis/apps/v1", "daemonsets", "image pre-puller")
LEASE = Kind("Lease", "apis/coordination.k8s.io/v1", "leases", "lease")
STORAGE_CLASS = Kind("StorageClass", "apis/storage.k8s.io/v1", "storageclasses",
                     "storage class", namespaced=False)

KINDS = {k.kind: k for k in (COURSE, SEAT, PROFILE, POD, SERVICE, SECRET, CLAIM, EVENT, NODE,
                             NAMESPACE, NETWORK_POLICY, ENDPOINT_SLICE, STORAGE_CLASS,
                             LEASE, DAEMON_SET)}
# What the operator makes for a seat or a course, and watches to repair.
CHILD_KINDS = (POD, SERVICE, SECRET, CLAIM, NETWORK_POLICY)


def of(kind: str) -> Kind:
    """The table entry for a manifest's ``kind``."""
    return KINDS[kind]


def path(kind: str, namespace: str | None, name: str | None = None,
         subresource: str | None = None) -> str:
    return of(kind).path(namespace, name, subresource)
