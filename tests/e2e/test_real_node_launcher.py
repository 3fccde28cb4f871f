"""The real node's launcher, on a second cluster: `up --real-node` brings a Ready real node,
`down --wipe` leaves no process, bridge, firewall chain, cgroup, mount or port behind.

Runs beside the shared devcluster (and its real node, if any) with its own ports, state
directory, bridge and pod subnet, so neither disturbs the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cluster.test_launcher import port_open, processes_using

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = ["-m", "devcluster.cluster"]  # run from the repository root
PORTS = {"ARCDESK_APISERVER_PORT": 17443, "ARCDESK_ETCD_PORT": 23379,
         "ARCDESK_ETCD_PEER_PORT": 23380, "ARCDESK_KCM_PORT": 21257,
         "ARCDESK_SCHEDULER_PORT": 21259, "ARCDESK_KUBELET_HEALTHZ_PORT": 21248,
         "ARCDESK_REGISTRY_PORT": 25000}
BRIDGE, SUBNET = "arcdt0", "10.87.0.0/24"


def launcher(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *LAUNCHER, *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def leftovers(state: Path) -> dict[str, object]:
    """Everything a stopped real node could leave on the machine."""
    links = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True)
    chains = subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True).stdout
    digest = hashlib.sha256(str(state.resolve()).encode()).hexdigest()[:8]
    return {
        "bridge": [link["ifname"] for link in json.loads(links.stdout)
                   if link["ifname"] == BRIDGE],
        "chain": [line for line in chains.splitlines() if BRIDGE.upper() in line],
        "mounts": [line for line in Path("/proc/self/mounts").read_text().splitlines()
                   if str(state) in line],
        "processes": processes_using(state),
        "ports": [port for port in PORTS.values() if port_open(port)],
        "cgroups": [str(path) for path in Path("/sys/fs/cgroup").glob(f"*/arcdesk-{digest}")],
        "run_dir": Path(f"/run/arcdesk-{digest}").exists(),
    }


def test_second_cluster_with_real_node_up_and_down_leaves_nothing(tmp_path: Path) -> None:
    state = tmp_path / "devcluster"
    env = {**os.environ, "ARCDESK_DEVCLUSTER_DIR": str(state),
           "ARCDESK_ETCD_DIR": str(tmp_path / "etcd"),
           "ARCDESK_REGISTRY_DIR": str(tmp_path / "registry"),
           "ARCDESK_REALNODE_BRIDGE": BRIDGE, "ARCDESK_REALNODE_SUBNET": SUBNET,
           "ARCDESK_REALNODE_SERVICES": "off",  # kube-proxy: the shared real node's
           **{k: str(v) for k, v in PORTS.items()}}
    try:
        up = launcher(env, "up", "--real-node")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "node arcdesk-real-0 Ready" in up.stdout, up.stdout
        node = json.loads(subprocess.run(
            [str(state / "bin" / "kubectl"), f"--kubeconfig={state / 'kubeconfig'}",
             "get", "node", "arcdesk-real-0", "-o", "json"],
            capture_output=True, text=True, check=True).stdout)
        assert node["spec"]["taints"][0]["key"] == "arcdesk.dev/real-node"
        assert {"type": "InternalIP", "address": "10.87.0.1"} in node["status"]["addresses"]
    finally:
        down = launcher(env, "down", "--wipe")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "realnode: down" in down.stdout
    assert leftovers(state) == {"bridge": [], "chain": [], "mounts": [], "processes": [],
                                "ports": [], "cgroups": [], "run_dir": False}
