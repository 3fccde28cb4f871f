"""Configuration files of the real node: containerd, CNI, kubelet (and its certificates)."""

from __future__ import annotations

import json

from devcluster import components
from devcluster.node_layout import (
    CNI_BIN_DIR,
    NODE_POOL,
    PAUSE_IMAGE,
    SNAPSHOTTER,
    TAINT_KEY,
    NodeLayout,
)
from devcluster.pki import make_client, make_leaf, subject


def containerd_toml(node: NodeLayout) -> str:
    """containerd 1.6 (config version 2): our own root, state, socket and CNI directories.

    cgroupfs (SystemdCgroup = false) because this machine has no systemd; no AppArmor or
    SELinux in this kernel; the sandbox image is the locally built pause image; the overlayfs
    snapshotter works on this ext4 root.
    """
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{node.data_dir / 'containerd'}"
state = "{node.run_dir / 'containerd'}"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{node.containerd_socket}"

[metrics]
  address = ""

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  enable_unprivileged_ports = true
  # This VM's bounding set lacks CAP_SYS_RESOURCE: no process may lower its OOM score, so
  # clamp the pause container's -998 (and Guaranteed pods' -997) to containerd's own score.
  restrict_oom_score_adj = true

[{cri}.containerd]
  snapshotter = "{SNAPSHOTTER}"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = "/usr/sbin/runc"
  SystemdCgroup = false

[{cri}.registry]
  config_path = "{node.registry_hosts_dir}"

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{node.cni_conf_dir}"
  max_conf_num = 1
"""


def cni_conflist(node: NodeLayout) -> dict:
    """bridge + host-local + portmap on our own bridge.

    isGateway is false on purpose: the bridge plugin would otherwise switch on the host's
    ip_forward, and pod traffic could leave the machine. The launcher gives the bridge its
    address itself, so the host reaches pods and pods reach the host, nothing further.
    """
    gateway = node.node_ip
    return {
        "cniVersion": "1.0.0", "name": "arcdesk-realnode",
        "plugins": [
            {"type": "bridge", "bridge": node.bridge, "isGateway": False,
             "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(node.state / "cni-ipam"),
                      "ranges": [[{"subnet": str(node.subnet), "gateway": gateway}]],
                      "routes": [{"dst": "0.0.0.0/0", "gw": gateway}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_configuration(node: NodeLayout) -> dict:
    pki = node.cluster.pki
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": node.node_ip, "port": node.kubelet_port, "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": node.kubelet_healthz_port,
        "tlsCertFile": str(pki / f"{node.pki_stem}.crt"),
        "tlsPrivateKeyFile": str(pki / f"{node.pki_stem}.key"),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{node.containerd_socket}",
        # This machine: cgroup v1 without systemd, no swap accounting wanted.
        "cgroupDriver": "cgroupfs", "failCgroupV1": False, "failSwapOn": False,
        "cgroupRoot": node.cgroup_root,
        # No cluster DNS runs. Naming the node IP (where nothing answers on port 53) makes
        # lookups in pods fail at once, instead of timing out against the host's resolver,
        # which pods cannot reach; it also stops the kubelet's MissingClusterDNS events.
        "clusterDomain": "cluster.local", "clusterDNS": [node.node_ip],
        "resolvConf": "/etc/resolv.conf",
        # Local images cannot be pulled again: never garbage-collect them.
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        # The disk is shared with other work; evict only when it is really full.
        "evictionHard": {"memory.available": "200Mi", "nodefs.available": "1%",
                         "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
        "registerWithTaints": [{"key": TAINT_KEY, "value": "true", "effect": "NoSchedule"}],
        "rotateCertificates": False, "serverTLSBootstrap": False,
        "maxPods": 30, "containerLogMaxSize": "10Mi", "containerLogMaxFiles": 2,
        # Not /var/log/pods: a kubelet deletes the log directories of pods it does not know,
        # so two real nodes (a second cluster's) sharing it would delete each other's logs.
        "podLogsDir": str(node.data_dir / "pod-logs"),
    }


def node_labels(node: NodeLayout) -> str:
    return f"arcdesk.dev/node-pool={NODE_POOL},type=real"


def ensure_kubelet_certificates(node: NodeLayout) -> None:
    """Client (system:node:<name>) and serving certificates, signed by the devcluster CA."""
    pki = node.cluster.pki
    make_client(pki, "ca", f"{node.pki_stem}-client", f"system:node:{node.name}",
                ("system:nodes",))
    make_leaf(pki, "ca", node.pki_stem, subject(f"system:node:{node.name}"), [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        f"subjectAltName=DNS:{node.name},IP:{node.node_ip}"])


def registry_hosts_toml(registry_host: str) -> str:
    """The devcluster registry speaks plain HTTP on loopback: pull and resolve from it as is."""
    return f"""server = "http://{registry_host}"

[host."http://{registry_host}"]
  capabilities = ["pull", "resolve"]
"""


def write_registry_hosts(node: NodeLayout) -> None:
    host = node.cluster.registry_host
    directory = node.registry_hosts_dir / host
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hosts.toml").write_text(registry_hosts_toml(host))


def write_configs(node: NodeLayout) -> None:
    node.state.mkdir(parents=True, exist_ok=True)
    node.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    ensure_kubelet_certificates(node)
    node.containerd_config.write_text(containerd_toml(node))
    write_registry_hosts(node)
    (node.cni_conf_dir / "10-arcdesk.conflist").write_text(
        json.dumps(cni_conflist(node), indent=2) + "\n")
    node.kubelet_config.write_text(json.dumps(kubelet_configuration(node), indent=2) + "\n")
    node.kubeconfig.write_text(
        components.kubeconfig_document(node.cluster, f"{node.pki_stem}-client"))
    node.kubeconfig.chmod(0o600)
