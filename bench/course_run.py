"""What the operator benchmarks share: a DesktopProfile and namespaces of their own on the
devcluster, the operator as a user runs it, watches that see seats and pods become ready,
and cleanup that leaves the cluster as it was found (namespaces gone, and the PVs their
homes were given gone too).

Knobs (environment): ``ARCDESK_BENCH_QUICK=1`` shrinks every benchmark for a trial run
(small courses, short churn and idle windows; results go to ``<name>-quick.json``);
``ARCDESK_BENCH_OPERATOR_ARGS="--workers 16"`` runs the operator with other options (the
results go to ``<name>-custom.json``), to compare settings.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from arcdesk.api import conditions, labels
from arcdesk.api.model import parse_time
from arcdesk.kube import ApiError
from bench import percentile, write_result
from bench.kubeapi import KUBECONFIG, REPO, Api, Obj
from devcluster.kit import TEST_IMAGE, Kubectl, OperatorProcess, install_crds

QUICK = os.environ.get("ARCDESK_BENCH_QUICK", "") not in ("", "0")
COURSES = f"/apis/{labels.API_VERSION}/namespaces/{{ns}}/courses"
SEATS = f"/apis/{labels.API_VERSION}/namespaces/{{ns}}/seats"
PODS = "/api/v1/namespaces/{ns}/pods"
CLAIMS = "/api/v1/namespaces/{ns}/persistentvolumeclaims"
LOGS = REPO / ".devcluster" / "logs"
OPERATOR_ARGS = tuple(shlex.split(os.environ.get("ARCDESK_BENCH_OPERATOR_ARGS", "")))


def env_int(name: str, full: int, quick: int) -> int:
    return int(os.environ.get(name, quick if QUICK else full))


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write the result; trial runs (quick, or other operator options) never overwrite the
    real figures."""
    suffix = ("-quick" if QUICK else "") + ("-custom" if OPERATOR_ARGS else "")
    return write_result(name + suffix, {**payload, "quick": QUICK, "uncommitted": _uncommitted(),
                                        "operator_args": list(OPERATOR_ARGS)})


def _uncommitted() -> list[str]:
    """Operator files that differ from the recorded commit (the clone is shared)."""
    found = subprocess.run(["git", "status", "--porcelain", "operator", "templates"],
                           capture_output=True, text=True, check=False, cwd=REPO)
    return [line[3:] for line in found.stdout.splitlines()]


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


async def calm(below: float = 1.5, longest: float = 120.0) -> float:
    """Let the load of the previous run (ours: deleting a namespace keeps the API server,
    garbage collector and KWOK busy) die down before timing the next; returns the load."""
    deadline = time.monotonic() + longest
    while load_average() >= below and time.monotonic() < deadline:
        await asyncio.sleep(5)
    return load_average()


def rss_mib(pid: int) -> float:
    """Resident set size of a process (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


def seat_ready(seat: Obj) -> bool:
    """What `Ready` means to a user: the Ready condition, for the current spec."""
    status = seat.get("status") or {}
    return (status.get("observedGeneration") == seat["metadata"].get("generation")
            and conditions.is_true(status.get("conditions"), conditions.READY))


def pod_ready(pod: Obj) -> bool:
    found = (pod.get("status") or {}).get("conditions") or ()
    return conditions.is_true(found, "Ready") and not pod["metadata"].get("deletionTimestamp")


class Tracker:
    """Live readiness of one kind's objects in a namespace, from a list-and-watch."""

    def __init__(self, api: Api, kind: str, namespace: str, ready: Callable[[Obj], bool],
                 changed: asyncio.Event | None = None) -> None:
        self.uid: dict[str, str] = {}
        self.ready: dict[str, bool] = {}
        self.ready_since: dict[str, float] = {}  # name -> when it last became ready
        self.first_ready: dict[tuple[str, str], float] = {}  # (name, uid) -> first ready
        self._api, self._kind, self._namespace, self._is_ready = api, kind, namespace, ready
        self._changed = changed or asyncio.Event()  # shared: wake on either of two watches
        self._listed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.errors: list[str] = []  # watch errors survived (they are worth a look)

    async def start(self) -> Tracker:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._listed.wait(), 60)
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        """Follow the watch; after an error (the API server restarting) list again."""
        while True:
            try:
                await self._follow()
            except (ApiError, TimeoutError, ValueError) as error:
                self.errors.append(f"{type(error).__name__}: {error}"[:200])
                await asyncio.sleep(1)

    async def _follow(self) -> None:
        listed: set[str] = set()
        async for kind, obj in self._api.list_and_watch(self._kind, self._namespace):
            if kind == "SYNCED":  # drop what was deleted while no watch was open
                for name in set(self.uid) - listed:
                    self._update("DELETED", {"metadata": {"name": name}})
                listed.clear()
                self._listed.set()
            else:
                listed.add(obj["metadata"]["name"])
                self._update(kind, obj)
            self._changed.set()

    def _update(self, kind: str, obj: Obj) -> None:
        now, meta = time.monotonic(), obj["metadata"]
        name = meta["name"]
        if kind == "DELETED":
            for found in (self.uid, self.ready, self.ready_since):
                found.pop(name, None)
            return
        ready = self._is_ready(obj)
        if ready and not self.ready.get(name):
            self.ready_since[name] = now
            self.first_ready.setdefault((name, meta["uid"]), now)
        self.uid[name], self.ready[name] = meta["uid"], ready

    def count_ready(self) -> int:
        return sum(self.ready.values())

    def spread(self, started: float) -> dict[str, float]:
        """Seconds after ``started`` by which 10/50/90/100% had first been ready."""
        times = sorted(t - started for t in self.first_ready.values())
        if not times:
            return {}
        return {f"p{q}": round(percentile(times, q), 2) for q in (10, 50, 90, 100)}

    async def until(self, what: str, probe: Callable[[], bool], timeout: float) -> float:
        """Wait until ``probe()`` holds (checked after every event); returns the time."""
        deadline = time.monotonic() + timeout
        while not probe():
            self._changed.clear()
            remaining = deadline - time.monotonic()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, remaining))
            except TimeoutError:
                raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}; "
                                   f"{self.count_ready()}/{len(self.ready)} ready") from None
        return time.monotonic()


class Cluster:
    """The devcluster as the benchmarks use it: one profile, namespaces cleaned up after."""

    def __init__(self) -> None:
        self.api = Api()
        self.profile = f"bench-{secrets.token_hex(3)}"
        self.namespaces: list[str] = []
        self.profile_body: Obj = {
            "apiVersion": labels.API_VERSION, "kind": "DesktopProfile",
            "metadata": {"name": self.profile, "labels": {"arcdesk.dev/bench": "true"}},
            "spec": {"image": TEST_IMAGE, "resources": {"cpu": "10m", "memory": "64Mi"},
                     "nodeSelector": {"type": "kwok"}},  # never the real node, if one runs
        }

    async def __aenter__(self) -> Cluster:
        # A fresh clone's devcluster has no CRDs yet: `make bench` must not need `make test`.
        kubectl = Kubectl(REPO / ".devcluster" / "bin" / "kubectl", KUBECONFIG)
        await asyncio.to_thread(install_crds, kubectl, "arcdesk-bench")
        created = await self.api.request("POST", f"/apis/{labels.API_VERSION}/desktopprofiles",
                                         self.profile_body)
        if created is None:
            raise RuntimeError("cannot create the benchmark's DesktopProfile: the API server "
                               "does not serve arcdesk.dev/v1alpha1 desktopprofiles")
        return self

    async def __aexit__(self, *_: object) -> None:
        try:
            await self.cleanup()
            await self.api.request("DELETE",
                                   f"/apis/{labels.API_VERSION}/desktopprofiles/{self.profile}")
        finally:
            await self.api.close()

    async def namespace(self, purpose: str) -> str:
        name = f"bench-{purpose}-{secrets.token_hex(3)}"
        await self.api.request("POST", "/api/v1/namespaces", {"metadata": {"name": name, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted", "arcdesk.dev/bench": "true"}}})
        self.namespaces.append(name)
        return name

    def course_body(self, namespace: str, name: str, seats: int) -> Obj:
        return {"apiVersion": labels.API_VERSION, "kind": "Course",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"title": f"Benchmark {name}", "profile": self.profile,
                         "seats": {"count": seats}}}

    async def create_course(self, namespace: str, name: str, seats: int) -> None:
        await self.api.request("POST", COURSES.format(ns=namespace),
                               self.course_body(namespace, name, seats))

    async def scale(self, namespace: str, name: str, seats: int) -> None:
        await self.api.request("PATCH", f"{COURSES.format(ns=namespace)}/{name}",
                               {"spec": {"seats": {"count": seats}}}, None,
                               "application/merge-patch+json")

    async def seats(self, namespace: str, changed: asyncio.Event | None = None) -> Tracker:
        """The Seats of ``namespace``, listed before this returns."""
        return await Tracker(self.api, "Seat", namespace, seat_ready, changed).start()

    async def pods(self, namespace: str, changed: asyncio.Event | None = None) -> Tracker:
        return await Tracker(self.api, "Pod", namespace, pod_ready, changed).start()

    async def failed_scheduling(self, namespace: str) -> int:
        """Scheduling attempts that found no node (e.g. the home claim not bound yet)."""
        found = await self.api.request(
            "GET", f"/apis/events.k8s.io/v1/namespaces/{namespace}/events",
            params={"fieldSelector": "reason=FailedScheduling"})
        return sum(int(e.get("deprecatedCount") or (e.get("series") or {}).get("count") or 1)
                   for e in (found or {}).get("items", ()))

    async def created(self, namespace: str, course: str) -> dict[str, dict[str, float]]:
        """When the claims and pods were created, in seconds after the Course (p50 and last;
        creation timestamps have 1 s resolution)."""
        def since(items: list[Obj], start: datetime) -> dict[str, float]:
            times = [(parse_time(i["metadata"]["creationTimestamp"]) - start).total_seconds()
                     for i in items]
            return {"p50": percentile(times, 50), "p100": max(times)} if times else {}

        found = await self.api.request("GET", f"{COURSES.format(ns=namespace)}/{course}")
        assert found is not None
        start = parse_time(found["metadata"]["creationTimestamp"])
        claims = await self.api.request("GET", CLAIMS.format(ns=namespace))
        pods = await self.api.request("GET", PODS.format(ns=namespace))
        return {"claims": since((claims or {}).get("items", []), start),
                "pods": since((pods or {}).get("items", []), start)}

    async def cleanup(self) -> None:
        """Delete our namespaces and wait until they are gone, then until the PVs their
        homes were provisioned are gone (a Released PV of reclaim policy Retain, from a
        static pool, is deleted here: it would never be reused)."""
        gone, self.namespaces = self.namespaces, []
        for name in gone:
            await self.api.request("DELETE", f"/api/v1/namespaces/{name}")
        deadline = time.monotonic() + 900
        for name in gone:
            while await self.api.request("GET", f"/api/v1/namespaces/{name}") is not None:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"namespace {name} still there after 15 minutes")
                await asyncio.sleep(2)
        while gone and (left := await self._volumes_of(gone)):
            for pv in left:
                if pv["spec"].get("persistentVolumeReclaimPolicy") == "Retain" \
                        and (pv.get("status") or {}).get("phase") == "Released":
                    await self.api.request(
                        "DELETE", f"/api/v1/persistentvolumes/{pv['metadata']['name']}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(left)} PVs of {gone} still there after 15 minutes")
            await asyncio.sleep(2)

    async def _volumes_of(self, namespaces: list[str]) -> list[Obj]:
        found = await self.api.request("GET", "/api/v1/persistentvolumes")
        return [pv for pv in (found or {}).get("items", ())
                if (pv["spec"].get("claimRef") or {}).get("namespace") in namespaces]


class Operator(OperatorProcess):
    """`arcdesk operator run --namespace NS` as the cluster tests start it (the log goes
    to .devcluster/logs/bench-operator-<ns>.log)."""

    def __init__(self, namespaces: list[str]) -> None:
        super().__init__(KUBECONFIG, namespaces, LOGS / f"bench-operator-{namespaces[0]}.log",
                         *OPERATOR_ARGS)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def writes(self) -> int:
        """Write requests the operator has sent (its own arcdesk_api_requests counter)."""
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith("arcdesk_api_requests_total{") and 'verb="GET"' not in line:
                total += float(line.rsplit(" ", 1)[1])
        return int(total)

    async def settle(self, quiet: float = 5.0, timeout: float = 120.0) -> None:
        """Wait until the operator has sent no write for ``quiet`` seconds."""
        deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            try:
                count = await asyncio.to_thread(self.writes)
            except OSError:  # /metrics slow to answer: the operator is busy, not quiet
                count = -1
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            await asyncio.sleep(0.5)


class Profile:
    """py-spy sampling the operator while a figure is taken, when ``ARCDESK_BENCH_PYSPY``
    names the py-spy binary; collapsed stacks go to .devcluster/logs/bench-profile-*.txt."""

    def __init__(self, pid: int, name: str) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        binary = os.environ.get("ARCDESK_BENCH_PYSPY")
        if binary:
            out = LOGS / f"bench-profile-{name}.txt"
            self.process = subprocess.Popen(
                [binary, "record", "--pid", str(pid), "--rate", "40", "--nonblocking",
                 "--format", "raw", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            self.process.wait(60)
