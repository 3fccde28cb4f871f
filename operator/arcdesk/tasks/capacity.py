"""Pure: does a course fit, and how many nodes does it need, with the arithmetic shown.

A desktop requests the course's CPU and memory (else its profile's) and one GPU for a GPU
profile; a node holds ``min(floor(free / request))`` over those resources and its pod slots.
Nodes come either from a given shape (--node-cpu/--node-memory: how many are needed) or from
the cluster (what is free now on the nodes the course may use, grouped by pool).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

POOL_LABELS = ("arcdesk.dev/node-pool", "cloud.google.com/gke-nodepool",
               "eks.amazonaws.com/nodegroup", "kubernetes.azure.com/agentpool")
GPU = "nvidia.com/gpu"
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([a-zA-Z]*)$")
_FACTORS = {"": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3,
            "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
            "P": Decimal(10) ** 15, "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10,
            "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
            "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60}
_UNSCHEDULABLE = ("NoSchedule", "NoExecute")


def quantity(text: Any) -> Decimal:
    """A Kubernetes quantity (``500m``, ``4Gi``, ``2``) as a number."""
    found = _QUANTITY.match(str(text).strip())
    if not found or found.group(2) not in _FACTORS:
        raise ValueError(f"{text!r} is not a quantity like 2, 500m or 4Gi")
    return Decimal(found.group(1)) * _FACTORS[found.group(2)]


def cpu_text(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() or value >= 1 \
        else f"{int(value * 1000)}m"


def memory_text(value: Decimal) -> str:
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        size = _FACTORS[unit]
        if value >= size:
            shown = (value / size).quantize(Decimal("0.1")).normalize()
            return f"{shown:f}{unit}"
    return f"{int(value)}"


@dataclass(frozen=True)
class Amounts:
    cpu: Decimal
    memory: Decimal
    gpu: int = 0
    pods: int = 1

    def minus(self, other: Amounts) -> Amounts:
        return Amounts(self.cpu - other.cpu, self.memory - other.memory,
                       self.gpu - other.gpu, self.pods - other.pods)

    def text(self) -> str:
        gpu = f", {self.gpu} GPU" if self.gpu else ""
        return f"{cpu_text(self.cpu)} CPU, {memory_text(self.memory)} memory{gpu}"


@dataclass(frozen=True)
class Demand:
    seats: int
    each: Amounts
    source: str  # where the numbers come from, e.g. "course resources"


@dataclass(frozen=True)
class Node:
    name: str
    pool: str
    free: Amounts
    max_pods: int | None = None  # pod slots, when known
    allocatable: Amounts | None = None  # the whole node, when known


@dataclass(frozen=True)
class Fit:
    node: Node
    places: int
    arithmetic: str


@dataclass
class PoolReport:
    pool: str
    fits: list[Fit] = field(default_factory=list)

    @property
    def places(self) -> int:
        return sum(f.places for f in self.fits)


def node_fit(node: Node, each: Amounts) -> Fit:
    """How many desktops ``node`` holds, with the min(...) that says why."""
    terms = [("CPU", node.free.cpu, each.cpu, cpu_text),
             ("memory", node.free.memory, each.memory, memory_text)]
    parts = [(f"floor({show(free)} / {show(need)}) = {_floor(free, need)}", _floor(free, need))
             for _, free, need, show in terms]
    if each.gpu:
        parts.append((f"floor({node.free.gpu} GPU / {each.gpu}) = "
                      f"{_floor(Decimal(node.free.gpu), Decimal(each.gpu))}",
                      _floor(Decimal(node.free.gpu), Decimal(each.gpu))))
    if node.max_pods is not None:
        parts.append((f"{node.free.pods} pod slots", max(0, node.free.pods)))
    places = min(p for _, p in parts)
    return Fit(node, places, f"min({', '.join(t for t, _ in parts)}) = {places}")


def _floor(free: Decimal, need: Decimal) -> int:
    return max(0, math.floor(free / need)) if need > 0 else 10**9


def nodes_needed(demand: Demand, shape: Node) -> tuple[int, Fit]:
    """Empty nodes of ``shape`` needed for every seat (0 places per node: never enough)."""
    fit = node_fit(shape, demand.each)
    if fit.places == 0:
        return 0, fit
    return math.ceil(demand.seats / fit.places), fit


def pools(demand: Demand, nodes: Sequence[Node]) -> list[PoolReport]:
    reports: dict[str, PoolReport] = {}
    for node in sorted(nodes, key=lambda n: (n.pool, n.name)):
        reports.setdefault(node.pool, PoolReport(node.pool)).fits.append(
            node_fit(node, demand.each))
    return list(reports.values())


def pool_of(labels: Mapping[str, str]) -> str:
    return next((labels[k] for k in POOL_LABELS if labels.get(k)), "default")


def usable(node: Mapping[str, Any], selector: Mapping[str, str]) -> bool:
    """Ready, schedulable, matching ``selector`` and without a taint that keeps desktops off."""
    meta, spec = node.get("metadata") or {}, node.get("spec") or {}
    labels = meta.get("labels") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in (node.get("status") or {}).get("conditions") or [])
    tainted = any(t.get("effect") in _UNSCHEDULABLE for t in spec.get("taints") or [])
    matches = all(labels.get(k) == v for k, v in selector.items())
    return ready and matches and not tainted and not spec.get("unschedulable", False)


def cluster_nodes(nodes: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]],
                  selector: Mapping[str, str]) -> list[Node]:
    """Free room on each usable node: allocatable minus the requests of its live pods."""
    used: dict[str, Amounts] = {}
    for pod in pods:
        name = (pod.get("spec") or {}).get("nodeName")
        if name and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            used[name] = _add(used.get(name, Amounts(Decimal(0), Decimal(0), 0, 0)),
                              pod_requests(pod))
    found = []
    for node in nodes:
        if not usable(node, selector):
            continue
        meta = node.get("metadata") or {}
        alloc = (node.get("status") or {}).get("allocatable") or {}
        total = Amounts(quantity(alloc.get("cpu", 0)), quantity(alloc.get("memory", 0)),
                        int(quantity(alloc.get(GPU, 0))), int(quantity(alloc.get("pods", 110))))
        taken = used.get(meta.get("name", ""), Amounts(Decimal(0), Decimal(0), 0, 0))
        found.append(Node(meta.get("name", ""), pool_of(meta.get("labels") or {}),
                          total.minus(taken), max_pods=total.pods, allocatable=total))
    return found


def _add(a: Amounts, b: Amounts) -> Amounts:
    return Amounts(a.cpu + b.cpu, a.memory + b.memory, a.gpu + b.gpu, a.pods + b.pods)


def pod_requests(pod: Mapping[str, Any]) -> Amounts:
    """A pod's requests as the scheduler counts them: containers summed, init containers max."""
    spec = pod.get("spec") or {}

    def of(container: Mapping[str, Any]) -> Amounts:
        requests = (container.get("resources") or {}).get("requests") or {}
        return Amounts(quantity(requests.get("cpu", 0)), quantity(requests.get("memory", 0)),
                       int(quantity(requests.get(GPU, 0))), 0)

    total = Amounts(Decimal(0), Decimal(0), 0, 1)
    for container in spec.get("containers") or []:
        total = _add(total, of(container))
    for init in spec.get("initContainers") or []:
        need = of(init)
        total = Amounts(max(total.cpu, need.cpu), max(total.memory, need.memory),
                        max(total.gpu, need.gpu), total.pods)
    return total


def demand_of(seats: int, course_cpu: str | None, course_memory: str | None,
              profile: Mapping[str, Any]) -> Demand:
    """What each desktop requests: the course's resources over its profile's defaults."""
    spec = profile.get("spec") or {}
    defaults = spec.get("resources") or {}
    name = (profile.get("metadata") or {}).get("name", "?")
    cpu, memory = course_cpu or defaults.get("cpu", "1"), course_memory or defaults.get(
        "memory", "2Gi")
    given = [w for w, v in (("CPU", course_cpu), ("memory", course_memory)) if v]
    source = f"course resources ({', '.join(given)}), profile {name}" if given \
        else f"profile {name} defaults"
    each = Amounts(quantity(cpu), quantity(memory), 1 if spec.get("gpu") else 0, 1)
    return Demand(seats, each, source)


def _demand_dict(demand: Demand) -> dict[str, Any]:
    total = Amounts(demand.each.cpu * demand.seats, demand.each.memory * demand.seats,
                    demand.each.gpu * demand.seats, demand.seats)
    return {"seats": demand.seats, "each": demand.each.text(), "source": demand.source,
            "total": total.text(),
            "arithmetic": f"{demand.seats} seats x ({demand.each.text()}) = {total.text()}"}


def shape_report(demand: Demand, shape: Node) -> dict[str, Any]:
    """How many nodes of one given shape the course needs."""
    needed, fit = nodes_needed(demand, shape)
    if needed:
        verdict = (f"needs {needed} node{'s' if needed != 1 else ''} of "
                   f"{shape.free.text()}: ceil({demand.seats} / {fit.places}) = {needed}")
    else:
        verdict = f"does not fit: one desktop ({demand.each.text()}) is larger than a node"
    return {"demand": _demand_dict(demand), "node": shape.free.text(),
            "perNode": fit.places, "perNodeArithmetic": fit.arithmetic,
            "nodesNeeded": needed, "fits": needed > 0, "verdict": verdict}


def cluster_report(demand: Demand, nodes: Sequence[Node],
                   selector: Mapping[str, str]) -> dict[str, Any]:
    """Whether the course fits in what the usable nodes have free now, per pool."""
    reports = pools(demand, nodes)
    places = sum(r.places for r in reports)
    fits = places >= demand.seats
    pool_dicts = [_pool_dict(demand, r) for r in reports]
    if not nodes:
        verdict = "does not fit: no Ready, schedulable node matches " + (
            ", ".join(f"{k}={v}" for k, v in selector.items()) or "(any node)")
    else:
        verdict = (f"{'fits' if fits else 'does not fit'}: {places} free place"
                   f"{'s' if places != 1 else ''} for {demand.seats} seats")
    return {"demand": _demand_dict(demand), "nodeSelector": dict(selector),
            "pools": pool_dicts, "places": places, "fits": fits, "verdict": verdict}


def _pool_dict(demand: Demand, report: PoolReport) -> dict[str, Any]:
    """The pool's nodes with their free places, and how many empty nodes like its first
    one the whole course would need."""
    first = report.fits[0].node
    empty = Node("empty", report.pool, first.allocatable or first.free, first.max_pods)
    needed, fit = nodes_needed(demand, empty)
    return {"pool": report.pool, "nodes": [
        {"name": f.node.name, "free": f.node.free.text(), "places": f.places,
         "arithmetic": f.arithmetic} for f in report.fits],
        "places": report.places, "emptyNodeHolds": fit.places, "nodesNeededWhenEmpty": needed}


def report_lines(report: Mapping[str, Any]) -> list[str]:
    """The report as text, the arithmetic first and the verdict last."""
    demand = report["demand"]
    lines = [f"Per desktop: {demand['each']} (from {demand['source']})",
             f"Course:      {demand['arithmetic']}"]
    if "perNode" in report:
        lines.append(f"Per node:    {report['node']} holds {report['perNodeArithmetic']}")
    for pool in report.get("pools", []):
        lines.append(f"Pool {pool['pool']}: {pool['places']} free places now; empty, a node "
                     f"holds {pool['emptyNodeHolds']} and the course needs "
                     f"ceil({demand['seats']} / {pool['emptyNodeHolds']}) = "
                     f"{pool['nodesNeededWhenEmpty']} nodes")
        lines += [f"  {n['name']}: free {n['free']} -> {n['arithmetic']}" for n in pool["nodes"]]
    lines.append(f"Verdict:     {report['verdict']}")
    return lines
