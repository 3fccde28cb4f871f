"""Operator memory: RSS (VmRSS of `arcdesk operator run`) once a 1000-seat course is Ready,
and its growth over a churn of scale-ups, deleted desktop pods and scale-downs.

The operator runs as a user runs it, in a process of its own serving one namespace. After
every Seat is Ready and the operator has gone quiet, RSS is read; then cycles of (+10
seats until Ready, 10 pods deleted until repaired, -10 seats until gone) repeat for 10
minutes (``ARCDESK_BENCH_CHURN_SECONDS``), the course back at 1000 seats after each cycle;
RSS is read again once the operator is quiet. growth = (after - before) / before. RSS is
sampled every 10 s throughout. Targets (ARCHITECTURE.md, issue 10): <= 150 MiB; < 5%.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from bench import Row
from bench.changes import Course
from bench.course_run import Cluster, Operator, calm, env_int, rss_mib, save

SEATS = env_int("ARCDESK_BENCH_MEMORY_SEATS", 1000, 50)
CHURN_SECONDS = env_int("ARCDESK_BENCH_CHURN_SECONDS", 600, 60)
STEP = 10
SAMPLE_SECONDS = 10.0


async def _sample(pid: int, samples: list[tuple[float, float]]) -> None:
    started = time.monotonic()
    while True:
        samples.append((round(time.monotonic() - started, 1), rss_mib(pid)))
        await asyncio.sleep(SAMPLE_SECONDS)


async def _churn(course: Course, seconds: float) -> dict[str, Any]:
    rng = random.Random(10)
    scale_up: list[float] = []
    repair: list[float] = []
    scale_down: list[float] = []
    cycles, until = 0, time.monotonic() + seconds
    while time.monotonic() < until:
        scale_up += await course.scale_up(STEP)
        repair += await course.repair(STEP, rng)
        scale_down.append(await course.scale_down(STEP))
        cycles += 1
    return {"cycles": cycles, "seconds": round(seconds), "step": STEP,
            "max_seconds": {"scale_up": round(max(scale_up), 2),
                            "repair": round(max(repair), 2),
                            "scale_down": round(max(scale_down), 2)}}


async def _measure() -> dict[str, Any]:
    async with Cluster() as cluster:
        namespace = await cluster.namespace("memory")
        operator = Operator([namespace])
        await asyncio.to_thread(operator.start)
        course = await Course.watch(cluster, namespace, "mem")
        samples: list[tuple[float, float]] = []
        sampler = asyncio.create_task(_sample(operator.pid, samples))
        try:
            rss_started = rss_mib(operator.pid)
            load = await calm()
            ready_seconds = await course.create(SEATS)
            await operator.settle()
            rss_ready = rss_mib(operator.pid)
            churn = await _churn(course, CHURN_SECONDS)
            await operator.settle()
            rss_after = rss_mib(operator.pid)
        finally:
            sampler.cancel()
            await asyncio.to_thread(operator.stop)
            await course.stop()
    return {
        "benchmark": f"operator RSS with a {SEATS}-seat course Ready, and its growth over "
                     "a churn",
        "seats": SEATS,
        "rss_mib_1000_seats": rss_ready if SEATS == 1000 else None,
        "rss_mib_ready": rss_ready,
        "rss_mib_started": rss_started,
        "rss_mib_after_churn": rss_after,
        "rss_mib_max": max(r for _, r in samples),
        "growth_percent": round((rss_after - rss_ready) / rss_ready * 100, 2),
        "targets": {"rss_mib_1000_seats": "<= 150", "growth_percent": "< 5"},
        "ready_seconds": round(ready_seconds, 2),
        "churn": churn,
        "load_average_1m_before": load,
        "rss_samples": samples,
        "method": "operator subprocess (`arcdesk operator run --namespace NS`), VmRSS from "
                  "/proc/<pid>/status after the operator has made no write for 5 s; churn "
                  f"cycles of +{STEP} seats, {STEP} pods deleted, -{STEP} seats, each "
                  "waited for",
    }


def run() -> list[Row]:
    summary = _measure_and_save()
    return [
        Row(metric=f"operator RSS, {summary['seats']} seats Ready",
            value=summary["rss_mib_ready"], unit="MiB", target="<= 150"),
        Row(metric=f"RSS growth over {summary['churn']['seconds']}s churn "
                   f"({summary['churn']['cycles']} cycles)",
            value=summary["growth_percent"], unit="%", target="< 5"),
    ]


def _measure_and_save() -> dict[str, Any]:
    summary = asyncio.run(_measure())
    save("memory", summary)
    return summary
