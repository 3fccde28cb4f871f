"""Provisioning throughput: a Course of N seats until every Seat is Ready, by the operator
and, in the same run, by a raw client writing the same objects; API writes per seat; and
the writes an idle, fully Ready course of the largest size makes over 5 minutes.

For each size (100, 500, 1000; ``ARCDESK_BENCH_SEATS=20,50`` to choose), in a namespace of
its own: the operator (`arcdesk operator run --namespace NS`, started before the clock)
gets a Course and the clock stops when a watch has seen every Seat Ready; then the
baseline (bench/raw_client.py, a process of its own) creates the same Course, Seats, Pods,
Services, Secrets, PVCs, NetworkPolicy and instructor Secret and writes each Seat's Ready
status once its pod is ready; the same watch stops its clock. Writes are counted twice:
by the writer itself and, for the objects arcdesk writes, by the API server's
apiserver_request_total (cluster-wide, so others' concurrent tests can add to it).
Targets (ARCHITECTURE.md, issue 10): ratio = raw / operator >= 0.8; 1000 seats <= 120 s;
0 writes while idle.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from multiprocessing.connection import Connection
from typing import Any

from bench import Row
from bench.course_run import (
    QUICK,
    Cluster,
    Operator,
    Profile,
    calm,
    env_int,
    load_average,
    rss_mib,
    save,
)
from bench.kubeapi import arcdesk_writes
from bench.raw_client import SEATS_IN_FLIGHT, serve

SIZES = tuple(int(n) for n in os.environ.get(
    "ARCDESK_BENCH_SEATS", "20,50" if QUICK else "100,500,1000").split(","))
IDLE_SECONDS = env_int("ARCDESK_BENCH_IDLE_SECONDS", 300, 30)
READY_TIMEOUT = 900.0
COURSE = "prov"


async def _operator_run(cluster: Cluster, seats: int, idle: bool) -> dict[str, Any]:
    namespace = await cluster.namespace("prov-op")
    operator = Operator([namespace])
    await asyncio.to_thread(operator.start)
    tracker = await cluster.seats(namespace)
    try:
        load = await calm()
        api_before, own_before = await cluster.api.apiserver_writes(), operator.writes()
        profile = Profile(operator.pid, f"provisioning-{seats}")
        started = time.monotonic()
        await cluster.create_course(namespace, COURSE, seats)
        ready = await tracker.until(f"{seats} seats ready by the operator",
                                    lambda: tracker.count_ready() == seats, READY_TIMEOUT)
        profile.stop()
        await operator.settle()
        writes = operator.writes() - own_before
        result = {"seconds": round(ready - started, 2), "spread": tracker.spread(started),
                  "created": await cluster.created(namespace, COURSE),
                  "failed_scheduling": await cluster.failed_scheduling(namespace),
                  "load_average_1m_before": load,
                  "load_average_1m_after": load_average(), "writes": writes,
                  "writes_per_seat": round(writes / seats, 2),
                  "apiserver_writes": arcdesk_writes(api_before,
                                                     await cluster.api.apiserver_writes()),
                  "rss_mib_ready": rss_mib(operator.pid)}
        if idle:
            result["idle"] = await _idle(cluster, operator)
        return result
    finally:
        await asyncio.to_thread(operator.stop)
        await tracker.stop()
        await cluster.cleanup()


async def _idle(cluster: Cluster, operator: Operator) -> dict[str, Any]:
    """Writes while nothing changes (a resync may fall in the window: it must not write)."""
    rss_before, load = rss_mib(operator.pid), load_average()
    api_before, own_before = await cluster.api.apiserver_writes(), operator.writes()
    await asyncio.sleep(IDLE_SECONDS)
    return {"seconds": IDLE_SECONDS, "operator_writes": operator.writes() - own_before,
            "apiserver_writes": arcdesk_writes(api_before, await cluster.api.apiserver_writes()),
            "rss_mib_before": rss_before, "rss_mib_after": rss_mib(operator.pid),
            "load_average_1m_before": load}


async def _raw_run(cluster: Cluster, seats: int) -> dict[str, Any]:
    namespace = await cluster.namespace("prov-raw")
    tracker = await cluster.seats(namespace)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, like the operator's
    ours, theirs = spawn.Pipe()
    body = cluster.course_body(namespace, COURSE, seats)
    process = spawn.Process(target=serve, args=(theirs, body, cluster.profile_body,
                                                SEATS_IN_FLIGHT), daemon=True)
    process.start()
    try:
        if not await asyncio.to_thread(ours.poll, 120):
            raise RuntimeError("the raw client process did not start")
        assert ours.recv() == "ready"
        load = await calm()
        api_before = await cluster.api.apiserver_writes()
        started = time.monotonic()
        ours.send("go")
        answer = asyncio.create_task(asyncio.to_thread(_answer, ours))
        ready = await tracker.until(f"{seats} seats ready by the raw client",
                                    lambda: tracker.count_ready() == seats or answer.done(),
                                    READY_TIMEOUT)
        sent = await answer
        writes = sum(n for verb, n in sent.items() if verb != "GET")
        return {"seconds": round(ready - started, 2), "spread": tracker.spread(started),
                "created": await cluster.created(namespace, COURSE),
                "failed_scheduling": await cluster.failed_scheduling(namespace),
                "load_average_1m_before": load,
                "load_average_1m_after": load_average(), "writes": writes,
                "writes_per_seat": round(writes / seats, 2), "requests": sent,
                "apiserver_writes": arcdesk_writes(api_before,
                                                   await cluster.api.apiserver_writes())}
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()
        await tracker.stop()
        await cluster.cleanup()


def _answer(conn: Connection) -> dict[str, int]:
    """The raw client's request counts; raises what it failed with."""
    if not conn.poll(READY_TIMEOUT + 60):
        raise RuntimeError("no answer from the raw client process")
    sent: dict[str, Any] = conn.recv()
    if "error" in sent:
        raise RuntimeError(f"the raw client failed:\n{sent['error']}")
    return sent


async def _measure() -> list[dict[str, Any]]:
    runs = []
    async with Cluster() as cluster:
        for seats in SIZES:
            operator = await _operator_run(cluster, seats, idle=seats == max(SIZES))
            raw = await _raw_run(cluster, seats)
            runs.append({"seats": seats, "operator": operator, "raw": raw,
                         "ratio": round(raw["seconds"] / operator["seconds"], 3)})
    return runs


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    idle = next((r["operator"]["idle"] for r in runs if "idle" in r["operator"]), {})
    return {
        "benchmark": "Course of N seats -> every Seat Ready: operator vs raw client writing "
                     "the same objects, same run",
        "seats": [r["seats"] for r in runs],
        "operator_seconds": [r["operator"]["seconds"] for r in runs],
        "raw_seconds": [r["raw"]["seconds"] for r in runs],
        "ratio": [r["ratio"] for r in runs],
        "writes_per_seat": {"operator": [r["operator"]["writes_per_seat"] for r in runs],
                            "raw": [r["raw"]["writes_per_seat"] for r in runs]},
        "idle_writes": idle.get("operator_writes"), "idle_seconds": idle.get("seconds"),
        "idle_seats": max(r["seats"] for r in runs),
        "targets": {"ratio": ">= 0.8", "operator_seconds_1000": "<= 120", "idle_writes": 0},
        "runs": runs,
        "method": f"per size: operator first, then the raw client ({SEATS_IN_FLIGHT} seats "
                  "in flight), each in a fresh namespace on the shared devcluster (KWOK "
                  "nodes); clock from creating the Course to a watch seeing every Seat Ready; "
                  "writes counted by each writer and by apiserver_request_total",
    }


def run() -> list[Row]:
    summary = _summary(asyncio.run(_measure()))
    save("provisioning", summary)
    rows = []
    for r in summary["runs"]:
        n = r["seats"]
        target = "<= 120" if n == 1000 else ""
        rows += [Row(metric=f"{n} seats Ready, operator", value=r["operator"]["seconds"],
                     unit="s", target=target),
                 Row(metric=f"{n} seats Ready, raw client", value=r["raw"]["seconds"],
                     unit="s", target=""),
                 Row(metric=f"{n} seats raw / operator", value=r["ratio"], unit="ratio",
                     target=">= 0.8"),
                 Row(metric=f"{n} seats writes per seat, operator",
                     value=r["operator"]["writes_per_seat"], unit="writes", target="")]
    if summary["idle_writes"] is not None:
        rows.append(Row(metric=f"writes of an idle {summary['idle_seats']}-seat course in "
                               f"{summary['idle_seconds']}s", value=summary["idle_writes"],
                        unit="writes", target="0"))
    return rows
