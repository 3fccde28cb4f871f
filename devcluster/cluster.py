#!/usr/bin/env python3
"""Run a real Kubernetes control plane with KWOK nodes on this machine.

    python3 -m devcluster.cluster up [--real-node]|down [--wipe]|status

Binaries come from devcluster/build.sh (cached in ~/.cache/arcdesk/devcluster);
state (pki, kubeconfig, logs, pids) lives in <repo>/.devcluster; PVs are provisioned on
demand under /tmp/hostpath_pv;
etcd keeps its data on tmpfs. Stdlib only, plus the openssl CLI.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable

from devcluster import components, processes, resources
from devcluster.checks import (
    DevclusterError,
    apiserver_ready,
    etcd_healthy,
    kubectl,
    say,
    wait_until,
)
from devcluster.components import Layout
from devcluster.kit import url_ok
from devcluster.pki import ensure_pki

START_ORDER: list[tuple[str, Callable[[Layout], list[str]]]] = [
    ("etcd", components.etcd_command),
    ("kube-apiserver", components.apiserver_command),
    ("kube-controller-manager", components.controller_manager_command),
    ("kube-scheduler", components.scheduler_command),
    ("kwok", components.kwok_command),
    ("registry", components.registry_command),
]
LINKED_TOOLS = ("kubectl", "helm", "kwok")
REQUIRED_FILES = ("etcd", "kube-apiserver", "kubectl", "kwok", "helm", "registry",
                  "kwok-stages.yaml")


def kwok_nodes_ready(layout: Layout, expected: int) -> bool:
    nodes = kubectl(layout).get_json("nodes", "-l", "type=kwok")["items"]
    return sum(map(node_is_ready, nodes)) >= expected


def node_is_ready(node: dict) -> bool:
    return any(condition["type"] == "Ready" and condition["status"] == "True"
               for condition in node.get("status", {}).get("conditions", []))


def expected_node_count() -> int:
    return sum(pool["count"] for pool in resources.load_config()["pools"])


def healthy(layout: Layout) -> bool:
    return (all(processes.running_pid(layout.pids, name) for name, _ in START_ORDER)
            and apiserver_ready(layout)
            and kwok_nodes_ready(layout, expected_node_count()))


def check_binaries(layout: Layout) -> None:
    missing = [name for name in REQUIRED_FILES if not layout.binary(name).exists()]
    if missing:
        raise DevclusterError(
            f"missing in {layout.bin_cache}: {', '.join(missing)}. "
            "Build them with `make devcluster-build` (runs devcluster/build.sh; needs Go).")


def link_tools(layout: Layout) -> None:
    link_dir = layout.state / "bin"
    link_dir.mkdir(parents=True, exist_ok=True)
    for tool in LINKED_TOOLS:
        link = link_dir / tool
        link.unlink(missing_ok=True)
        link.symlink_to(layout.binary(tool))


def start_missing_components(layout: Layout) -> None:
    for name, make_command in START_ORDER:
        if processes.running_pid(layout.pids, name):
            continue
        if name == "kube-apiserver" and apiserver_ready(layout):
            raise DevclusterError(f"port {layout.apiserver_port} already serves an API "
                                  "server we did not start; set ARCDESK_APISERVER_PORT")
        if name == "registry" and processes.port_in_use(layout.registry_port):
            raise DevclusterError(f"port {layout.registry_port} is taken by a process we did "
                                  "not start; set ARCDESK_REGISTRY_PORT")
        pid = processes.start(name, make_command(layout), layout.logs, layout.pids)
        say(f"started {name} (pid {pid})")
        log = str(layout.logs / f"{name}.log")
        if name == "etcd":
            wait_until("etcd /health", lambda: etcd_healthy(layout), 60, log)
        elif name == "kube-apiserver":
            wait_until("kube-apiserver /readyz", lambda: apiserver_ready(layout), 120, log)
        elif name == "registry":
            wait_until("registry /v2/", lambda: url_ok(f"{layout.registry_url}/v2/"), 30, log)


def up(layout: Layout) -> None:
    started = time.monotonic()
    check_binaries(layout)
    if layout.kubeconfig.exists() and healthy(layout):
        say(f"already up and healthy; kubeconfig {layout.kubeconfig}")
    else:
        forget_earlier_clone(layout)
        ensure_pki(layout.pki)
        components.write_kubeconfigs(layout)
        link_tools(layout)
        start_missing_components(layout)
    ensure_objects(layout)
    say(f"up in {time.monotonic() - started:.1f}s; "
        f"export KUBECONFIG={layout.kubeconfig} PATH={layout.state / 'bin'}:$PATH")


def forget_earlier_clone(layout: Layout) -> None:
    """A state directory without PKI is a new clone; etcd data found at its path belongs to
    a deleted one (its PVs point into directories that are gone), so it starts empty."""
    if (layout.pki / "ca.crt").exists() or not layout.etcd_data.exists():
        return
    if processes.port_in_use(layout.etcd_client_port):
        raise DevclusterError(f"port {layout.etcd_client_port} already serves an etcd we did "
                              "not start; stop it or set ARCDESK_ETCD_PORT")
    shutil.rmtree(layout.etcd_data)
    say(f"wiped {layout.etcd_data}: etcd data of an earlier clone at this path")


def ensure_objects(layout: Layout) -> None:
    """Nodes and storage as nodes.toml says; cheap, so it runs on every `up`."""
    config = resources.load_config()
    created_nodes = resources.ensure_nodes(kubectl(layout), config)
    resources.ensure_storage_class(kubectl(layout), config)
    removed = resources.delete_legacy_pool(kubectl(layout))
    if created_nodes:
        say(f"created {created_nodes} KWOK nodes")
    if removed:
        say(f"removed {removed} unused static PVs of an older devcluster "
            "(PVs are provisioned on demand now)")
    wait_until("KWOK nodes Ready", lambda: kwok_nodes_ready(layout, expected_node_count()),
               120, str(layout.logs / "kwok.log"))


def down(layout: Layout, wipe: bool) -> None:
    for name, _ in reversed(START_ORDER):
        if processes.stop(layout.pids, name):
            say(f"stopped {name}")
    deadline = time.monotonic() + 10
    while (busy := [p for p in layout.ports() if processes.port_in_use(p)]) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    if busy:
        raise DevclusterError(f"ports still in use after stopping: {busy} (see `ss -ltnp`)")
    if wipe:
        shutil.rmtree(layout.etcd_data, ignore_errors=True)
        say(f"wiped {layout.etcd_data}")
    say("down; no component running, ports free")


def status(layout: Layout) -> int:
    total_rss = 0
    print(f"{'COMPONENT':<24} {'PID':>8} {'RSS MiB':>8}")
    for name, _ in START_ORDER:
        pid = processes.running_pid(layout.pids, name)
        rss = processes.rss_bytes(pid) if pid else 0
        total_rss += rss
        print(f"{name:<24} {pid or '-':>8} {rss / 2**20:>8.0f}")
    print(f"{'total':<24} {'':>8} {total_rss / 2**20:>8.0f}")
    if not apiserver_ready(layout):
        print(f"apiserver: not ready at {layout.server_url}")
        return 1
    nodes = kubectl(layout).get_json("nodes")["items"]
    pvs = kubectl(layout).get_json("pv")["items"]
    phases = [pv.get("status", {}).get("phase", "Pending") for pv in pvs]
    print(f"apiserver: ready at {layout.server_url}; kubeconfig {layout.kubeconfig}")
    ready = [node for node in nodes if node_is_ready(node)]
    print(f"nodes: {len(nodes)}, {len(ready)} Ready")
    print(f"pvs: {phases.count('Bound')} bound, {phases.count('Available')} available, "
          f"{phases.count('Released')} released (provisioned on demand)")
    return 0 if healthy(layout) else 1


def real_node_up(layout: Layout) -> None:
    """Optional real node (containerd + kubelet, devcluster/node_launcher.py); lazy import
    so the default `up` never loads it."""
    from devcluster import node_launcher
    node_launcher.up(node_launcher.NodeLayout.from_environment(layout))


def real_node_down(layout: Layout, wipe: bool) -> None:
    """Stop the real node first, if it was ever started in this state directory."""
    if (layout.state / "realnode").exists():
        from devcluster import node_launcher
        node_launcher.down(node_launcher.NodeLayout.from_environment(layout), wipe)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--wipe", action="store_true", help="down: also delete etcd data")
    parser.add_argument("--real-node", action="store_true",
                        help="up: also start the real node arcdesk-real-0")
    args = parser.parse_args()
    layout = Layout.from_environment()
    try:
        if args.command == "up":
            up(layout)
            if args.real_node:
                real_node_up(layout)
        elif args.command == "down":
            real_node_down(layout, args.wipe)
            down(layout, args.wipe)
        else:
            return status(layout)
    except (DevclusterError, RuntimeError) as error:
        print(f"devcluster: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
