"""The provisioning baseline: a plain asyncio client writing exactly the objects the
operator writes for a course (built by the same pure ``arcdesk.build.desired`` functions, so
names, labels, owner references and specs are identical) as fast as the API server takes
them, then each Seat's Ready status once its pod is ready, then the Course status.
Tuned: every home PVC first, then 64 seats at a time, each Seat then its Secret and
Service at once, and its Pod as soon as the home is bound (a pod whose claim is not bound
yet is marked unschedulable and waits out the scheduler's backoff).

It knows everything up front (no watches of its own objects, no reconcile decisions, one
status write per seat), so it is the upper bound a controller can approach. Run it in a
process of its own, as the operator runs, with :func:`serve`.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from arcdesk.api import naming
from arcdesk.api.credentials import new_seat_credentials, new_token
from arcdesk.api.model import Course, Profile, Trainee, parse_course, parse_profile
from arcdesk.api.schedule import plan
from arcdesk.api.settings import Settings
from arcdesk.api.views import SeatView, object_view, seat_view
from arcdesk.build import desired
from arcdesk.engine.course_logic import CourseFacts, course_owner, course_status, seat_owner
from arcdesk.engine.seat_logic import Observed, RunDecision, desktop_pod, seat_status
from arcdesk.kube.kinds import path
from bench.course_run import CLAIMS, PODS, pod_ready
from bench.kubeapi import Api, Obj

FIELD_MANAGER = "arcdesk-bench-raw"
SEATS_IN_FLIGHT = 64  # seats being written at once


class RawWriter:
    def __init__(self, api: Api, course: Course, profile: Profile, seats_in_flight: int) -> None:
        self.api, self.course, self.profile = api, course, profile
        self.limit = asyncio.Semaphore(seats_in_flight)
        self.seat_uids: dict[str, str] = {}
        self.ready_pods: dict[str, Obj] = {}
        self.claimed: set[str] = set()  # one status write per seat
        self.published: dict[str, SeatView] = {}
        self.all_ready = asyncio.Event()
        self._status_tasks: set[asyncio.Task[None]] = set()
        self.bound: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._listed = 0

    async def create(self, manifest: Obj) -> Obj:
        meta = manifest["metadata"]
        created = await self.api.request("POST", path(manifest["kind"], meta["namespace"]),
                                         manifest, {"fieldManager": FIELD_MANAGER})
        assert created is not None
        return created

    async def course_objects(self) -> None:
        owner = course_owner(self.course.name, self.course.uid)
        await asyncio.gather(
            self.create(desired.network_policy(self.course, Settings(), owner)),
            self.create(desired.instructor_secret(self.course, new_token(), owner)))

    async def claims(self) -> None:
        """Homes first: ownerless under reclaimPolicy Retain, they need no Seat."""
        if self.course.reclaim_policy == "Retain":
            await asyncio.gather(*(self.create(desired.home_claim(self.course, t, None))
                                   for t in self.course.trainees))

    async def seat(self, trainee: Trainee) -> None:
        """Seat, then Secret and Service; the Pod once its home is bound (a pod whose claim
        is not bound yet is unschedulable and waits out the scheduler's backoff)."""
        course, profile = self.course, self.profile
        async with self.limit:
            created = await self.create(desired.seat(
                course, trainee, "Running", course_owner(course.name, course.uid)))
            name = created["metadata"]["name"]
            owner = seat_owner(name, created["metadata"]["uid"])
            children = [desired.secret(course, trainee, new_seat_credentials(), owner),
                        desired.service(course, trainee, owner)]
            if course.reclaim_policy != "Retain":
                children.append(desired.home_claim(course, trainee, owner))
            await asyncio.gather(*map(self.create, children))
            self.seat_uids[name] = created["metadata"]["uid"]
        await self.bound[naming.home_claim_name(course.name, trainee.id)].wait()
        await self.create(desktop_pod(course, profile, trainee, owner))

    async def watch(self, listed: asyncio.Event) -> None:
        """Claims becoming Bound and pods becoming ready, from two watches."""
        namespace = self.course.namespace
        await asyncio.gather(self._watch(PODS.format(ns=namespace), self._pod_event, listed),
                             self._watch(CLAIMS.format(ns=namespace), self._claim_event, listed))

    async def _watch(self, path: str, handle: Callable[[str, Obj], None],
                     listed: asyncio.Event) -> None:
        async for kind, obj in self.api.list_and_watch(path):
            if kind == "SYNCED":
                self._listed += 1
                if self._listed == 2:
                    listed.set()
            elif kind != "DELETED":
                handle(obj["metadata"]["name"], obj)

    def _claim_event(self, name: str, claim: Obj) -> None:
        if (claim.get("status") or {}).get("phase") == "Bound":
            self.bound[name].set()

    def _pod_event(self, name: str, pod: Obj) -> None:
        if name in self.ready_pods or not pod_ready(pod):
            return
        self.ready_pods[name] = pod
        if name in self.seat_uids:
            self._publish_later(name)

    def _publish_later(self, name: str) -> None:
        task = asyncio.create_task(self._publish(name))
        self._status_tasks.add(task)
        task.add_done_callback(self._status_tasks.discard)

    async def _publish(self, name: str) -> None:
        if name in self.claimed:
            return
        self.claimed.add(name)
        now = datetime.now(UTC)
        observed = Observed(decision=RunDecision(True), pod=object_view(self.ready_pods[name]),
                            prepared=True, started=True, idle_timeout=self.course.idle_timeout)
        answer = await self.api.request(
            "PATCH", path("Seat", self.course.namespace, name, "status"),
            {"status": seat_status(observed, 1, now, {})}, {"fieldManager": FIELD_MANAGER},
            "application/merge-patch+json")
        assert answer is not None
        self.published[name] = seat_view(answer)
        if len(self.published) == len(self.course.trainees):
            self.all_ready.set()

    async def publish_course(self) -> None:
        now = datetime.now(UTC)
        facts = CourseFacts(self.course, plan(self.course, now), list(self.published.values()),
                            profile_found=True)
        await self.api.request(
            "PATCH", path("Course", self.course.namespace, self.course.name, "status"),
            {"status": course_status(facts, now, {})}, {"fieldManager": FIELD_MANAGER},
            "application/merge-patch+json")


async def provision(course_body: Obj, profile_body: Obj,
                    seats_in_flight: int = SEATS_IN_FLIGHT) -> dict[str, int]:
    """Create the course and everything under it; return the requests sent, by verb."""
    api = Api(connections=seats_in_flight * 2)
    try:
        created = await api.request("POST", path("Course", course_body["metadata"]["namespace"]),
                                    course_body, {"fieldManager": FIELD_MANAGER})
        assert created is not None
        writer = RawWriter(api, parse_course(created), parse_profile(profile_body),
                           seats_in_flight)
        listed = asyncio.Event()
        watcher = asyncio.create_task(writer.watch(listed))
        await listed.wait()
        await writer.claims()
        await asyncio.gather(writer.course_objects(),
                             *map(writer.seat, writer.course.trainees))
        await writer.all_ready.wait()
        await writer.publish_course()
        watcher.cancel()
        return dict(api.sent)
    finally:
        await api.close()


def serve(conn: Connection, course_body: Obj, profile_body: Obj,
          seats_in_flight: int) -> None:
    """Process entry: say "ready", wait for "go", provision, send back the request counts
    (or the error)."""
    conn.send("ready")
    assert conn.recv() == "go"
    try:
        result: Any = asyncio.run(provision(course_body, profile_body, seats_in_flight))
    except Exception:
        conn.send({"error": traceback.format_exc()})
        raise
    conn.send(result)
