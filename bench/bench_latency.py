"""Change latency: how long a user waits for the operator to carry out a change to a
running 1000-seat course.

- scale +10 seats: from the Course edit until each new Seat is Ready;
- delete 10 desktop pods: from the deletion until each seat has a new pod Ready and its
  Seat is Ready again.
Five rounds of each (``ARCDESK_BENCH_LATENCY_ROUNDS``) on one course of 1000 seats
(``ARCDESK_BENCH_LATENCY_SEATS``), each change waited for before the next; p50/p95 are
over every seat's sample (nearest rank).
"""

from __future__ import annotations

import asyncio
import random
import statistics
from typing import Any

from bench import Row, percentile
from bench.changes import Course
from bench.course_run import Cluster, Operator, calm, env_int, save

SEATS = env_int("ARCDESK_BENCH_LATENCY_SEATS", 1000, 50)
ROUNDS = env_int("ARCDESK_BENCH_LATENCY_ROUNDS", 5, 2)
STEP = 10


def _figures(samples: list[float]) -> dict[str, Any]:
    return {"p50": round(statistics.median(samples), 2),
            "p95": round(percentile(samples, 95), 2), "max": round(max(samples), 2),
            "samples": [round(s, 2) for s in samples]}


async def _measure() -> dict[str, Any]:
    async with Cluster() as cluster:
        namespace = await cluster.namespace("latency")
        operator = Operator([namespace])
        await asyncio.to_thread(operator.start)
        course = await Course.watch(cluster, namespace, "lat")
        rng = random.Random(10)
        try:
            await calm()
            ready_seconds = await course.create(SEATS)
            await operator.settle()
            load = await calm()
            scale_up: list[float] = []
            repair: list[float] = []
            for _ in range(ROUNDS):
                scale_up += await course.scale_up(STEP)
                await operator.settle(quiet=2.0)
                repair += await course.repair(STEP, rng)
                await operator.settle(quiet=2.0)
        finally:
            await asyncio.to_thread(operator.stop)
            await course.stop()
    return {
        "benchmark": f"change latency on a running {SEATS}-seat course",
        "seats": SEATS, "rounds": ROUNDS, "step": STEP,
        "scale_up_seconds": _figures(scale_up),
        "repair_seconds": _figures(repair),
        "ready_seconds": round(ready_seconds, 2),
        "load_average_1m_before": load,
        "method": f"{ROUNDS} rounds of: +{STEP} seats (edit -> each new Seat Ready), then "
                  f"{STEP} random running pods deleted (deletion -> new pod Ready and Seat "
                  "Ready again); the operator quiet for 2 s between changes",
    }


def run() -> list[Row]:
    summary = asyncio.run(_measure())
    save("latency", summary)
    rows = []
    for key, what in (("scale_up_seconds", f"scale +{STEP} seats"),
                      ("repair_seconds", f"{STEP} deleted pods repaired")):
        for q in ("p50", "p95"):
            rows.append(Row(metric=f"{what} {q} ({summary['seats']} seats)",
                            value=summary[key][q], unit="s", target=""))
    return rows
