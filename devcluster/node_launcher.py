#!/usr/bin/env python3
"""Run one real node (containerd + runc + CNI bridge + kubelet) in the devcluster.

    python3 -m devcluster.node_launcher up|down [--wipe]|status
    python3 -m devcluster.node_launcher restart [--down-for SECONDS]
    python3 -m devcluster.node_launcher import TARBALL NAME [--alias NAME ...]

The control plane must be up (`make cluster-up`); the same ARCDESK_* variables select which
cluster. The node registers as arcdesk-real-0 with the label arcdesk.dev/node-pool=real and
the taint arcdesk.dev/real-node=true:NoSchedule, so KWOK-only workloads never land on it.
Needs Debian's containerd, runc, containernetworking-plugins and iptables, and crictl
(`make realnode-tools`). Stdlib only.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from devcluster import (
    checks,
    kit,
    node_config,
    node_network,
    node_runtime,
    node_services,
    node_storage,
    processes,
)
from devcluster.components import Layout
from devcluster.node_layout import CNI_BIN_DIR, PAUSE_IMAGE, NodeLayout

REPO = Path(__file__).resolve().parent.parent
PAUSE_BUILDER = REPO / "images" / "pause" / "build.py"
DEBIAN_PACKAGES = {"/usr/bin/containerd": "containerd", "/usr/sbin/runc": "runc",
                   str(CNI_BIN_DIR / "bridge"): "containernetworking-plugins",
                   "/usr/sbin/iptables": "iptables", "/usr/bin/socat": "socat"}


def say(message: str) -> None:
    print(f"realnode: {message}", flush=True)


def check_prerequisites(node: NodeLayout) -> None:
    missing = sorted({package for path, package in DEBIAN_PACKAGES.items()
                      if not Path(path).exists()})
    if missing:
        raise checks.DevclusterError(f"missing Debian packages: {' '.join(missing)} "
                                      "(`make realnode-deps`)")
    for tool in ("kubelet", "crictl"):
        if not node.cluster.binary(tool).exists():
            raise checks.DevclusterError(f"missing {node.cluster.binary(tool)} "
                                          "(`make devcluster-build realnode-tools`)")
    if not checks.apiserver_ready(node.cluster):
        raise checks.DevclusterError(
            f"no API server ready at {node.cluster.server_url}; run `make cluster-up` first")


def kubelet_command(node: NodeLayout) -> list[str]:
    return [
        str(node.cluster.binary("kubelet")), f"--config={node.kubelet_config}",
        f"--kubeconfig={node.kubeconfig}", f"--root-dir={node.kubelet_dir}",
        f"--hostname-override={node.name}", f"--node-ip={node.node_ip}",
        f"--node-labels={node_config.node_labels(node)}", "--v=1",
    ]


def node_ready(node: NodeLayout, since: float = 0) -> bool:
    """Ready, as posted by a kubelet at or after ``since`` (epoch seconds)."""
    try:
        found = checks.kubectl(node.cluster).get_json("nodes", "-l", "type=real")["items"]
    except RuntimeError:
        return False
    for item in found:
        for condition in item.get("status", {}).get("conditions", []):
            if item["metadata"]["name"] == node.name and condition["type"] == "Ready":
                beat = datetime.fromisoformat(condition["lastHeartbeatTime"]).timestamp()
                return condition["status"] == "True" and beat >= int(since)
    return False


def start_if_stopped(node: NodeLayout, name: str, command: list[str]) -> None:
    if not processes.running_pid(node.cluster.pids, name):
        pid = processes.start(name, command, node.cluster.logs, node.cluster.pids)
        say(f"started {name} (pid {pid})")


def start_containerd(node: NodeLayout) -> None:
    node.run_dir.mkdir(parents=True, exist_ok=True)
    start_if_stopped(node, "containerd", node_runtime.containerd_command(node))
    checks.wait_until("containerd", lambda: node_runtime.containerd_ready(node), 60,
                       str(node.cluster.logs / "containerd.log"))


def ensure_pause_image(node: NodeLayout) -> None:
    if PAUSE_IMAGE in node_runtime.image_names(node):
        return
    tarball = subprocess.run([sys.executable, str(PAUSE_BUILDER)], check=True,
                             capture_output=True, text=True).stdout.strip()
    node_runtime.import_image(node, Path(tarball))
    say(f"imported {PAUSE_IMAGE}")


def import_into_node(node: NodeLayout, image: list[str], aliases: list[str]) -> None:
    if len(image) != 2:
        raise checks.DevclusterError("import needs TARBALL NAME")
    if not node_runtime.containerd_ready(node):
        raise checks.DevclusterError("containerd is not running; `node_launcher.py up` first")
    started = time.monotonic()
    tarball, name = Path(image[0]), image[1]
    if node_runtime.ensure_image(node, tarball, name, aliases):
        say(f"imported {name} in {time.monotonic() - started:.1f}s")
    else:
        say(f"{name} already present")


def start_services(node: NodeLayout) -> None:
    """The relay to the API server, kube-proxy, and the `kubernetes` Service's endpoints."""
    node_services.write_kube_proxy_config(node)
    start_if_stopped(node, "socat", node_services.relay_command(node))
    start_if_stopped(node, "kube-proxy", node_services.kube_proxy_command(node))
    node_services.publish_apiserver_endpoints(node, checks.kubectl(node.cluster))
    healthz = f"http://127.0.0.1:{node.kube_proxy_healthz_port}/healthz"
    checks.wait_until("kube-proxy synced", lambda: kit.url_ok(healthz), 60,
                       str(node.cluster.logs / "kube-proxy.log"))
    checks.wait_until(f"API server relay on {node.node_ip}",
                       lambda: kit.listening(node.cluster.apiserver_port, node.node_ip), 20,
                       str(node.cluster.logs / "socat.log"))


def stop_services(node: NodeLayout) -> None:
    for name in ("kube-proxy", "socat"):
        if processes.stop(node.cluster.pids, name):
            say(f"stopped {name}")
    if node.services:
        node_services.clean_rules(node)


def up(node: NodeLayout) -> None:
    started, wall_clock = time.monotonic(), time.time()
    check_prerequisites(node)
    node_config.write_configs(node)
    node_network.ensure_network(node)
    node_runtime.ensure_cgroup_root(node)
    start_containerd(node)
    ensure_pause_image(node)
    if processes.running_pid(node.cluster.pids, "kubelet"):
        wall_clock = 0  # a running kubelet posts status only when it changes
    start_if_stopped(node, "kubelet", kubelet_command(node))
    checks.wait_until(f"node {node.name} Ready", lambda: node_ready(node, wall_clock), 120,
                       str(node.cluster.logs / "kubelet.log"))
    if node.services:
        start_services(node)
    made = node_storage.ensure_local_volumes(node, checks.kubectl(node.cluster))
    if made:
        say(f"created {made} local PersistentVolumes ({node_storage.STORAGE_CLASS})")
    say(f"node {node.name} Ready in {time.monotonic() - started:.1f}s "
        f"(pods on {node.subnet}, bridge {node.bridge})")


def down(node: NodeLayout, wipe: bool) -> None:
    stop_services(node)
    if processes.stop(node.cluster.pids, "kubelet"):
        say("stopped kubelet")
    if node_runtime.containerd_ready(node):
        removed = node_runtime.remove_all_pods(node, node.cluster.binary("crictl"))
        say(f"removed {removed} pod sandboxes")
    if processes.stop(node.cluster.pids, "containerd"):
        say("stopped containerd")
    node_runtime.kill_shims(node)
    node_runtime.unmount_under(node.kubelet_dir, node.run_dir, node.data_dir)
    node_runtime.remove_cgroup_root(node)
    node_network.remove_network(node)
    shutil.rmtree(node.run_dir, ignore_errors=True)
    if wipe:
        shutil.rmtree(node.state, ignore_errors=True)
        shutil.rmtree(node.data_dir, ignore_errors=True)
        say(f"wiped {node.state} and {node.data_dir}")
    say("down")


def restart(node: NodeLayout, down_for: float) -> None:
    """Stop the kubelet and containerd, leave them down ``down_for`` seconds, start them
    again: what a node's runtime upgrade does. Containers keep running in their shims."""
    for name in ("kubelet", "containerd"):
        if processes.stop(node.cluster.pids, name):
            say(f"stopped {name}")
    time.sleep(down_for)
    up(node)


def status(node: NodeLayout) -> int:
    for name in ("containerd", "kubelet", *(("kube-proxy", "socat") if node.services else ())):
        pid = processes.running_pid(node.cluster.pids, name)
        rss = processes.rss_bytes(pid) / 2**20 if pid else 0
        print(f"{name:<24} {pid or '-':>8} {rss:>8.0f}")
    ready = node_ready(node)
    print(f"node {node.name}: {'Ready' if ready else 'not Ready'}")
    return 0 if ready else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "restart", "status", "import"])
    parser.add_argument("image", nargs="*", help="import: TARBALL NAME (an image it holds)")
    parser.add_argument("--wipe", action="store_true", help="down: also delete images/state")
    parser.add_argument("--alias", action="append", default=[],
                        help="import: also tag the image as this name")
    parser.add_argument("--down-for", type=float, default=0.0,
                        help="restart: seconds the kubelet and containerd stay stopped")
    args = parser.parse_args()
    node = NodeLayout.from_environment(Layout.from_environment())
    try:
        if args.command == "up":
            up(node)
        elif args.command == "import":
            import_into_node(node, args.image, args.alias)
        elif args.command == "down":
            down(node, args.wipe)
        elif args.command == "restart":
            restart(node, args.down_for)
        else:
            return status(node)
    except (checks.DevclusterError, RuntimeError, subprocess.CalledProcessError) as error:
        print(f"realnode: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
