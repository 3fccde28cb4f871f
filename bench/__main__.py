"""`python -m bench [NAME ...]`: run the benchmark modules and print one table.

Every ``bench/bench_<name>.py`` is found on its own; NAME selects some of them.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path

from bench import Row

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def print_table(rows: list[tuple[str, Row]]) -> None:
    header = ("benchmark", "metric", "value", "unit", "target")
    lines = [header] + [
        (name, r["metric"], f"{r['value']:.3f}", r["unit"], r["target"]) for name, r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str]) -> int:
    names = argv or discover()
    unknown = sorted(set(names) - set(discover()))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; have {discover()}", file=sys.stderr)
        return 2
    rows: list[tuple[str, Row]] = []
    failed = []
    for name in names:
        started = time.monotonic()
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            rows += [(name, row) for row in module.run()]
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
        print(f"== {name}: {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    print_table(rows)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
