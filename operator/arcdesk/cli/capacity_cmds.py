"""`arcdesk capacity COURSE.yaml`: does the course fit, and how many nodes does it need."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from arcdesk.api.model import parse_course
from arcdesk.build import profiles
from arcdesk.cli.files import InputError, load_documents
from arcdesk.cli.options import Context, Kubeconfig, Output, connect, reported, target
from arcdesk.cli.output import Format, emit_object, fail, say
from arcdesk.kube.blocking import Cluster
from arcdesk.kube.kinds import ALL_NAMESPACES, NODE, POD, PROFILE
from arcdesk.tasks import capacity, offline


def _course_and_profiles(path: Path, profile_file: Path | None,
                         ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    docs = load_documents(path) + (load_documents(profile_file) if profile_file else [])
    courses = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Course"]
    if len(courses) != 1:
        raise InputError(f"{path}: expected exactly one Course, found {len(courses)}")
    for doc in docs:
        problems = offline.check_document(doc)
        if problems:
            raise InputError(f"{path}: {problems[0]} (see `arcdesk validate -f {path}`)")
    return courses[0], [d for d in docs if d.get("kind") == "DesktopProfile"]


def _profile(name: str, known: list[dict[str, Any]], cluster: Cluster | None,
             ) -> dict[str, Any]:
    """From the files, else the cluster, else the built-in profiles."""
    for doc in known:
        if doc["metadata"]["name"] == name:
            return doc
    if cluster is not None:
        return cluster.get(PROFILE, name)
    for doc in profiles.default_profiles():
        if doc["metadata"]["name"] == name:
            return doc
    raise InputError(f"profile {name!r} is not built in: pass --profile-file FILE, or drop "
                     "--node-cpu/--node-memory to read it from the cluster")


def report(path: Path, profile_file: Path | None,
           nodes_from: capacity.Node | Cluster) -> dict[str, Any]:
    """Against one given node shape, or against the cluster's nodes as they are now."""
    course_doc, known = _course_and_profiles(path, profile_file)
    course = parse_course(course_doc)
    cluster = nodes_from if isinstance(nodes_from, Cluster) else None
    profile = _profile(course.profile, known, cluster)
    demand = capacity.demand_of(len(course.trainees), course.cpu, course.memory, profile)
    if cluster is None:
        assert isinstance(nodes_from, capacity.Node)
        return capacity.shape_report(demand, nodes_from)
    selector = {**(profile.get("spec", {}).get("nodeSelector") or {}), **course.node_selector}
    nodes = cluster.list(NODE)
    pods = cluster.list(POD, ALL_NAMESPACES,
                        field_selector="status.phase!=Succeeded,status.phase!=Failed")
    return capacity.cluster_report(demand, capacity.cluster_nodes(nodes, pods, selector),
                                   selector)


def _shape(cpu: str | None, memory: str | None, gpu: int, pods: int) -> capacity.Node | None:
    if cpu is None and memory is None:
        return None
    if cpu is None or memory is None:
        raise fail("give both --node-cpu and --node-memory (or neither, to use the cluster's "
                   "nodes)", 2)
    try:
        free = capacity.Amounts(capacity.quantity(cpu), capacity.quantity(memory), gpu, pods)
    except ValueError as error:
        raise fail(f"--node-cpu/--node-memory: {error}", 2) from None
    return capacity.Node("given", "given", free, max_pods=pods)


def capacity_command(
    filename: Annotated[Path, typer.Argument(metavar="COURSE.yaml", help="Course file.")],
    node_cpu: Annotated[str | None, typer.Option(
        "--node-cpu", metavar="CPU", help="Allocatable CPU of one node, e.g. 8.")] = None,
    node_memory: Annotated[str | None, typer.Option(
        "--node-memory", metavar="MEM", help="Allocatable memory of one node, e.g. 32Gi.")
    ] = None,
    node_gpu: Annotated[int, typer.Option("--node-gpu", min=0, help="GPUs per node.")] = 0,
    node_pods: Annotated[int, typer.Option("--node-pods", min=1, help="Pods per node.")] = 110,
    profile_file: Annotated[Path | None, typer.Option(
        "--profile-file", metavar="FILE", help="DesktopProfile YAML (default: the cluster's, "
        "or the built-in one with --node-cpu).")] = None,
    output: Output = Format.table, kubeconfig: Kubeconfig = None, context: Context = None,
) -> None:
    """Whether a course fits, with the arithmetic shown (exit 1 when it does not).

    Without --node-cpu/--node-memory: on what the cluster's nodes have free now, per pool.
    With them: how many nodes of that size the course needs.
    """
    shape = _shape(node_cpu, node_memory, node_gpu, node_pods)
    with reported():
        nodes_from = shape or connect(target(kubeconfig, context, None))
        result = report(filename, profile_file, nodes_from)
    if output is Format.table:
        for line in capacity.report_lines(result):
            say(line)
    else:
        emit_object(result, output)
    if not result["fits"]:
        raise typer.Exit(1)

