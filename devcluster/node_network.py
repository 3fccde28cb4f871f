"""The real node's network: our own bridge with the node's address, and a fence around it.

Pods get addresses from the CNI bridge plugin on this bridge. The host reaches them directly
(the bridge carries the node IP); a FORWARD rule drops anything from the pod subnet that is
not for the pod subnet, so no pod traffic is ever routed off the machine.
"""

from __future__ import annotations

import subprocess

from devcluster.node_layout import NodeLayout


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result


def link_exists(name: str) -> bool:
    return run("ip", "link", "show", name, check=False).returncode == 0


def ensure_bridge(node: NodeLayout) -> None:
    if not link_exists(node.bridge):
        run("ip", "link", "add", node.bridge, "type", "bridge")
    run("ip", "addr", "replace", f"{node.node_ip}/{node.subnet.prefixlen}", "dev", node.bridge)
    run("ip", "link", "set", node.bridge, "up")
    # Route what arrives on this bridge alone (a pod calling a ClusterIP is DNATed to another
    # pod and routed back out); the host's ip_forward stays as it is, the fence drops the rest.
    run("sysctl", "-q", "-w", f"net.ipv4.conf.{node.bridge}.forwarding=1")


def ensure_fence(node: NodeLayout) -> None:
    """FORWARD -> our chain: drop pod-subnet traffic bound for anywhere but the pod subnet."""
    chain, subnet = node.firewall_chain, str(node.subnet)
    run("iptables", "-w", "-N", chain, check=False)
    run("iptables", "-w", "-F", chain)
    run("iptables", "-w", "-A", chain, "-s", subnet, "!", "-d", subnet, "-j", "DROP")
    if run("iptables", "-w", "-C", "FORWARD", "-j", chain, check=False).returncode != 0:
        run("iptables", "-w", "-I", "FORWARD", "-j", chain)


def ensure_network(node: NodeLayout) -> None:
    ensure_bridge(node)
    ensure_fence(node)


def remove_network(node: NodeLayout) -> None:
    chain = node.firewall_chain
    while run("iptables", "-w", "-D", "FORWARD", "-j", chain, check=False).returncode == 0:
        pass
    run("iptables", "-w", "-F", chain, check=False)
    run("iptables", "-w", "-X", chain, check=False)
    if link_exists(node.bridge):
        run("ip", "link", "del", node.bridge)
