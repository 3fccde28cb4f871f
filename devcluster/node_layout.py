"""Where the real node (containerd + kubelet + CNI bridge) keeps its files, and its names.

Everything is derived from the devcluster's Layout, so a second cluster in another state
directory gets its own containerd, kubelet, bridge and pod subnet (set by environment).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from devcluster.components import Layout

NODE_POOL = "real"
TAINT_KEY = "arcdesk.dev/real-node"
PAUSE_IMAGE = "localhost/arcdesk/pause:3.10.1"
CNI_BIN_DIR = Path("/usr/lib/cni")
SNAPSHOTTER = "overlayfs"


@dataclass(frozen=True)
class NodeLayout:
    """Paths, names and addresses of the real node of one devcluster."""

    cluster: Layout
    name: str
    bridge: str
    subnet: ipaddress.IPv4Network
    kubelet_port: int
    kubelet_healthz_port: int
    run_dir: Path  # sockets and runtime state: tmpfs, short paths (sun_path is 108 bytes)
    data_dir: Path  # containerd's content store and snapshots: outside the clone
    cgroup_root: str  # pods' cgroups: two kubelets must never share (they reap "orphans")
    services: bool  # kube-proxy and the API server relay (one real node per machine)
    kube_proxy_healthz_port: int
    kube_proxy_metrics_port: int

    @classmethod
    def from_environment(cls, cluster: Layout) -> NodeLayout:
        env = os.environ.get
        digest = hashlib.sha256(str(cluster.state.resolve()).encode()).hexdigest()[:8]
        return cls(
            cluster=cluster,
            name=env("ARCDESK_REALNODE_NAME") or "arcdesk-real-0",
            bridge=env("ARCDESK_REALNODE_BRIDGE") or "arcdesk0",
            subnet=ipaddress.IPv4Network(env("ARCDESK_REALNODE_SUBNET") or "10.85.0.0/24"),
            kubelet_port=int(env("ARCDESK_KUBELET_PORT") or 10250),
            kubelet_healthz_port=int(env("ARCDESK_KUBELET_HEALTHZ_PORT") or 10248),
            run_dir=Path(f"/run/arcdesk-{digest}"),
            data_dir=cluster.bin_cache.parent.parent.parent / "realnode" / digest,
            cgroup_root=f"/arcdesk-{digest}",
            services=(env("ARCDESK_REALNODE_SERVICES") or "on") != "off",
            kube_proxy_healthz_port=int(env("ARCDESK_KUBE_PROXY_HEALTHZ_PORT") or 10256),
            kube_proxy_metrics_port=int(env("ARCDESK_KUBE_PROXY_METRICS_PORT") or 10249),
        )

    @property
    def state(self) -> Path:
        return self.cluster.state / "realnode"

    @property
    def node_ip(self) -> str:
        """The bridge's own address: the node's InternalIP and the kubelet's listen address."""
        return str(self.subnet.network_address + 1)

    @property
    def containerd_socket(self) -> Path:
        return self.run_dir / "containerd.sock"

    @property
    def containerd_config(self) -> Path:
        return self.state / "containerd.toml"

    @property
    def registry_hosts_dir(self) -> Path:
        """containerd's config_path: one <host>/hosts.toml per registry it pulls from."""
        return self.state / "certs.d"

    @property
    def cni_conf_dir(self) -> Path:
        return self.state / "cni"

    @property
    def kubelet_dir(self) -> Path:
        """Beside containerd's data: the kubelet's sockets need a short path, pods' emptyDirs
        a real disk (not tmpfs)."""
        return self.data_dir / "kubelet"

    @property
    def kubelet_config(self) -> Path:
        return self.state / "kubelet-config.json"

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubelet.kubeconfig"

    @property
    def kube_proxy_config(self) -> Path:
        return self.state / "kube-proxy-config.json"

    @property
    def kube_proxy_kubeconfig(self) -> Path:
        return self.state / "kube-proxy.kubeconfig"

    @property
    def pki_stem(self) -> str:
        return f"kubelet-{self.name}"

    @property
    def firewall_chain(self) -> str:
        return f"ARCDESK-{self.bridge.upper()}"[:28]

    def cgroup_dirs(self) -> list[Path]:
        """The cgroup root in every mounted cgroup v1 hierarchy (kubelet wants it to exist)."""
        hierarchies = [line.split()[1] for line in
                       Path("/proc/self/mounts").read_text().splitlines()
                       if line.split()[2] in ("cgroup", "cgroup2")]
        return [Path(mount) / self.cgroup_root.lstrip("/") for mount in hierarchies]

    def ports(self) -> list[int]:
        proxy = [self.kube_proxy_healthz_port, self.kube_proxy_metrics_port]
        return [self.kubelet_port, self.kubelet_healthz_port, *(proxy if self.services else [])]
