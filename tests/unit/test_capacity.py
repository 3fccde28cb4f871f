"""Capacity arithmetic: quantities, desktops per node, nodes needed, the cluster's free room,
and `arcdesk capacity` with a given node shape (no cluster needed)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from arcdesk.cli.main import app
from arcdesk.tasks import capacity
from arcdesk.tasks.capacity import Amounts, Demand, Node

pytestmark = pytest.mark.unit
GI = Decimal(2) ** 30


@pytest.mark.parametrize(("text", "value"), [
    ("2", Decimal(2)), ("500m", Decimal("0.5")), ("1.5", Decimal("1.5")), (".5", Decimal("0.5")),
    ("4Gi", 4 * GI), ("512Mi", Decimal(512 * 2**20)), ("1G", Decimal(10**9)), (3, Decimal(3)),
])
def test_quantity(text: Any, value: Decimal) -> None:
    assert capacity.quantity(text) == value


@pytest.mark.parametrize("text", ["", "2 Gi", "4GB", "-1", "x"])
def test_quantity_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="is not a quantity"):
        capacity.quantity(text)


def test_per_node_is_the_tightest_resource_and_nodes_are_rounded_up() -> None:
    demand = Demand(25, Amounts(Decimal(2), 4 * GI), "course resources")
    report = capacity.shape_report(demand, Node("n", "p", Amounts(Decimal(8), 32 * GI, 0, 110),
                                                max_pods=110))
    assert report["perNode"] == 4
    assert report["perNodeArithmetic"] == \
        "min(floor(8 / 2) = 4, floor(32Gi / 4Gi) = 8, 110 pod slots) = 4"
    assert report["nodesNeeded"] == 7 and report["fits"]
    assert report["verdict"] == "needs 7 nodes of 8 CPU, 32Gi memory: ceil(25 / 4) = 7"
    assert report["demand"]["arithmetic"] == \
        "25 seats x (2 CPU, 4Gi memory) = 50 CPU, 100Gi memory"


def test_memory_bound_and_gpu_bound_nodes() -> None:
    fit = capacity.node_fit(Node("n", "p", Amounts(Decimal(64), 16 * GI)),
                            Amounts(Decimal("0.5"), 6 * GI))
    assert fit.places == 2 and "floor(16Gi / 6Gi) = 2" in fit.arithmetic
    gpu = capacity.node_fit(Node("n", "p", Amounts(Decimal(64), 256 * GI, 4)),
                            Amounts(Decimal(1), 8 * GI, 1))
    assert gpu.places == 4 and "floor(4 GPU / 1) = 4" in gpu.arithmetic


def test_a_desktop_larger_than_a_node_never_fits() -> None:
    demand = Demand(3, Amounts(Decimal(16), 4 * GI), "x")
    report = capacity.shape_report(demand, Node("n", "p", Amounts(Decimal(8), 32 * GI)))
    assert not report["fits"] and report["nodesNeeded"] == 0
    assert report["verdict"].startswith("does not fit: one desktop (16 CPU, 4Gi memory)")


def node(name: str, pool: str = "a", cpu: str = "8", memory: str = "32Gi", pods: int = 110,
         ready: str = "True", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"arcdesk.dev/node-pool": pool, "disk": "ssd"}},
            "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods)},
                       "conditions": [{"type": "Ready", "status": ready}]}}


def pod(node_name: str, cpu: str, memory: str, phase: str = "Running",
        init_cpu: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeName": node_name, "containers": [
        {"resources": {"requests": {"cpu": cpu, "memory": memory}}}, {"resources": {}}]}
    if init_cpu:
        spec["initContainers"] = [{"resources": {"requests": {"cpu": init_cpu}}}]
    return {"spec": spec, "status": {"phase": phase}}


def test_cluster_room_is_allocatable_minus_live_pods_on_usable_nodes() -> None:
    nodes = [node("a1"), node("a2"), node("b1", pool="b"), node("down", ready="False"),
             node("cordoned", unschedulable=True),
             node("tainted", taints=[{"key": "gpu", "effect": "NoSchedule"}])]
    pods = [pod("a1", "3", "1Gi"), pod("a1", "4", "1Gi", phase="Succeeded"),
            pod("a2", "1", "1Gi", init_cpu="6")]
    found = {n.name: n for n in capacity.cluster_nodes(nodes, pods, {"disk": "ssd"})}
    assert set(found) == {"a1", "a2", "b1"}
    assert found["a1"].free == Amounts(Decimal(5), 31 * GI, 0, 109)
    assert found["a2"].free.cpu == Decimal(2)  # an init container's request counts as the max
    report = capacity.cluster_report(Demand(5, Amounts(Decimal(2), 4 * GI), "x"),
                                     list(found.values()), {"disk": "ssd"})
    assert [(p["pool"], p["places"]) for p in report["pools"]] == [("a", 3), ("b", 4)]
    assert report["places"] == 7 and report["fits"]
    assert report["pools"][0]["nodesNeededWhenEmpty"] == 2  # ceil(5 / 4) empty 8-CPU nodes
    assert capacity.cluster_nodes(nodes, pods, {"disk": "hdd"}) == []


def test_no_matching_node_is_said_plainly() -> None:
    report = capacity.cluster_report(Demand(2, Amounts(Decimal(1), GI), "x"), [],
                                     {"pool": "gpu"})
    assert report["verdict"] == "does not fit: no Ready, schedulable node matches pool=gpu"


def course_yaml(tmp_path: Path, **spec: Any) -> Path:
    path = tmp_path / "course.yaml"
    path.write_text(json.dumps({"apiVersion": "arcdesk.dev/v1alpha1", "kind": "Course",
                                "metadata": {"name": "bio"},
                                "spec": {"title": "T", "profile": "bioimage", **spec}}))
    return path


def test_capacity_command_with_a_node_shape(tmp_path: Path) -> None:
    path = course_yaml(tmp_path, seats={"count": 25}, resources={"cpu": "2", "memory": "4Gi"})
    result = CliRunner().invoke(app, ["capacity", str(path), "--node-cpu", "8",
                                      "--node-memory", "32Gi"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Per desktop: 2 CPU, 4Gi memory (from course resources (CPU, memory), profile bioimage)",
        "Course:      25 seats x (2 CPU, 4Gi memory) = 50 CPU, 100Gi memory",
        "Per node:    8 CPU, 32Gi memory holds min(floor(8 / 2) = 4, floor(32Gi / 4Gi) = 8, "
        "110 pod slots) = 4",
        "Verdict:     needs 7 nodes of 8 CPU, 32Gi memory: ceil(25 / 4) = 7"]


def test_capacity_command_uses_the_profile_defaults_and_exits_1_when_it_cannot_fit(
        tmp_path: Path) -> None:
    path = course_yaml(tmp_path, seats={"roster": [{"id": "ann"}, {"id": "bob"}]})
    result = CliRunner().invoke(app, ["capacity", str(path), "--node-cpu", "500m",
                                      "--node-memory", "1Gi", "-o", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["demand"]["source"] == "profile bioimage defaults"
    assert not report["fits"] and report["nodesNeeded"] == 0


def test_capacity_command_usage_errors(tmp_path: Path) -> None:
    path = course_yaml(tmp_path, seats={"count": 2})
    half = CliRunner().invoke(app, ["capacity", str(path), "--node-cpu", "8"])
    assert half.exit_code == 2
    assert half.stderr.strip() == ("error: give both --node-cpu and --node-memory (or neither, "
                                   "to use the cluster's nodes)")
    bad = CliRunner().invoke(app, ["capacity", str(path), "--node-cpu", "8",
                                   "--node-memory", "lots"])
    assert bad.exit_code == 2 and "'lots' is not a quantity" in bad.stderr
    unknown = course_yaml(tmp_path, seats={"count": 2})
    unknown.write_text(unknown.read_text().replace('"bioimage"', '"custom"'))
    missing = CliRunner().invoke(app, ["capacity", str(unknown), "--node-cpu", "8",
                                       "--node-memory", "8Gi"])
    assert missing.exit_code == 2 and "profile 'custom' is not built in" in missing.stderr
