"""Benchmarks: `python -m bench` runs every ``bench/bench_*.py`` module's ``run()``.

A benchmark module defines ``run() -> list[Row]`` and writes its full result (every sample,
with ``machine_info()``) to ``bench/results/<name>.json`` via ``write_result``. A benchmark
measures; it does not pass or fail (that is what tests are for).
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

RESULTS = Path(__file__).resolve().parent / "results"


class Row(TypedDict):
    """One line of the summary table."""

    metric: str
    value: float
    unit: str
    target: str


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: with 10 samples, p95 is the slowest one."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False, cwd=RESULTS.parent)
    return result.stdout.strip() or "unknown"


def machine_info() -> dict[str, Any]:
    """Enough to tell whether two results are comparable."""
    meminfo = Path("/proc/meminfo").read_text().split() if Path("/proc/meminfo").exists() else []
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[1]) / 2**20, 1) if len(meminfo) > 1 else None,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": _commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({**payload, "machine": machine_info()}, indent=2) + "\n")
    tmp.replace(path)
    return path
