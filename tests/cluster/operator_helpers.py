"""What a user of the operator looks at, read straight from the API server: courses,
seats and their children in one namespace, and waiting for a course to get somewhere."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from kubernetes import client

from devcluster.kit import wait_for

GROUP, VERSION = "arcdesk.dev", "v1alpha1"
Obj = dict[str, Any]


def condition(obj: Obj, type_: str) -> Obj:
    for found in (obj.get("status") or {}).get("conditions") or ():
        if found["type"] == type_:
            return dict(found)
    return {}


def controller_uid(obj: Obj) -> str | None:
    refs = obj["metadata"].get("ownerReferences") or ()
    return next((r["uid"] for r in refs if r.get("controller")), None)


def fingerprint(secret: Obj) -> str:
    """A digest of a Secret's data, so tests compare credentials without printing them."""
    data = json.dumps(secret.get("data") or {}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def decoded(secret: Obj, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


class Namespace:
    """Read and write arcdesk objects in one namespace."""

    def __init__(self, api: client.ApiClient, name: str) -> None:
        self.name = name
        self.core = client.CoreV1Api(api)
        self.net = client.NetworkingV1Api(api)
        self.custom = client.CustomObjectsApi(api)

    # Courses and seats.
    def create_course(self, name: str, profile: str, seats: Obj, **spec: Any) -> Obj:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Course",
                "metadata": {"name": name, "namespace": self.name},
                "spec": {"title": f"Course {name}", "profile": profile, "seats": seats, **spec}}
        created: Obj = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.name, "courses", body)
        return created

    def course(self, name: str) -> Obj:
        found: Obj = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.name, "courses", name)
        return found

    def patch_course(self, name: str, patch: Obj) -> None:
        self.custom.patch_namespaced_custom_object(GROUP, VERSION, self.name, "courses", name,
                                                   patch)

    def delete_course(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.name, "courses", name)

    def seats(self) -> dict[str, Obj]:
        items = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.name, "seats")["items"]
        return {s["metadata"]["name"]: s for s in items}

    def seat(self, name: str) -> Obj:
        found: Obj = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.name, "seats", name)
        return found

    def patch_seat(self, name: str, patch: Obj, status: bool = False) -> None:
        patcher = (self.custom.patch_namespaced_custom_object_status if status
                   else self.custom.patch_namespaced_custom_object)
        patcher(GROUP, VERSION, self.name, "seats", name, patch)

    # Children, as plain dicts (camelCase, like kubectl -o json).
    def _raw(self, call: Callable[..., Any]) -> dict[str, Obj]:
        response = call(self.name, _preload_content=False)
        return {o["metadata"]["name"]: o for o in json.loads(response.data)["items"]}

    def pods(self) -> dict[str, Obj]:
        return self._raw(self.core.list_namespaced_pod)

    def services(self) -> dict[str, Obj]:
        return self._raw(self.core.list_namespaced_service)

    def secrets(self) -> dict[str, Obj]:
        return self._raw(self.core.list_namespaced_secret)

    def claims(self) -> dict[str, Obj]:
        return self._raw(self.core.list_namespaced_persistent_volume_claim)

    def policies(self) -> dict[str, Obj]:
        return self._raw(self.net.list_namespaced_network_policy)

    def events(self) -> list[Obj]:
        return list(self._raw(self.core.list_namespaced_event).values())

    # Waiting.
    def wait_course(self, name: str, what: str, probe: Callable[[Obj], bool],
                    timeout: float = 60) -> Obj:
        """Wait until ``probe(course)`` holds; fail with the course status otherwise."""
        last: dict[str, Obj] = {}

        def check() -> Obj | None:
            last["course"] = self.course(name)
            return last["course"] if probe(last["course"]) else None

        try:
            return wait_for(f"course {name}: {what}", check, timeout=timeout)
        except AssertionError as error:
            status = json.dumps((last.get("course") or {}).get("status"), indent=1)
            raise AssertionError(f"{error}\nstatus: {status}") from None

    def wait_ready(self, name: str, seats: int, timeout: float = 60) -> Obj:
        """Wait for ``seats``/``seats`` ready, Ready=True, for the current generation."""
        def ready(course: Obj) -> bool:
            status = course.get("status") or {}
            return (status.get("observedGeneration") == course["metadata"]["generation"]
                    and status.get("seats", {}).get("ready") == seats
                    and status.get("seats", {}).get("desired") == seats
                    and condition(course, "Ready").get("status") == "True")
        return self.wait_course(name, f"{seats}/{seats} seats ready", ready, timeout)
