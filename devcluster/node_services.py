"""Services on the real node: kube-proxy, and a relay from the node IP to the API server.

Pods reach the API server the way every in-cluster client does: through the `kubernetes`
Service (10.96.0.1:443). kube-proxy (iptables mode) sends it to the node IP, where socat
relays to the API server on loopback; the API server itself stays bound to 127.0.0.1 and
the relay listens on the bridge address, which only this machine and its pods reach.
NodePorts answer on the node IP alone (nodePortAddresses), never on the host's uplink.

kube-proxy owns the host's KUBE-* iptables chains, so one real node per machine runs these
services: a second cluster's real node sets ARCDESK_REALNODE_SERVICES=off.
"""

from __future__ import annotations

import json
import subprocess

from devcluster import components
from devcluster.kit import Kubectl
from devcluster.node_layout import NodeLayout
from devcluster.pki import make_client

FIELD_MANAGER = "arcdesk-devcluster"
KUBE_PROXY_USER = "system:kube-proxy"  # bound to system:node-proxier by the default RBAC


def kube_proxy_configuration(node: NodeLayout) -> dict:
    """iptables mode; conntrack sysctls left as the host has them (0 = do not touch)."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "mode": "iptables", "hostnameOverride": node.name,
        "clientConnection": {"kubeconfig": str(node.kube_proxy_kubeconfig)},
        "clusterCIDR": str(node.subnet), "detectLocalMode": "ClusterCIDR",
        "nodePortAddresses": [f"{node.node_ip}/32"],
        "healthzBindAddress": f"127.0.0.1:{node.kube_proxy_healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{node.kube_proxy_metrics_port}",
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                      "tcpCloseWaitTimeout": "0s"},
    }


def kube_proxy_command(node: NodeLayout) -> list[str]:
    return [str(node.cluster.binary("kube-proxy")), f"--config={node.kube_proxy_config}",
            "--v=1"]


def kube_proxy_cleanup_command(node: NodeLayout) -> list[str]:
    """Removes every KUBE-* rule kube-proxy wrote (iptables, and nftables if any)."""
    return [str(node.cluster.binary("kube-proxy")), "--cleanup", "--v=0"]


def relay_command(node: NodeLayout) -> list[str]:
    port = node.cluster.apiserver_port
    return ["socat", f"TCP-LISTEN:{port},bind={node.node_ip},fork,reuseaddr",
            f"TCP:127.0.0.1:{port}"]


def apiserver_endpoints(node: NodeLayout) -> list[dict]:
    """Where the `kubernetes` Service leads: the relay on the node IP.

    The API server's own endpoint reconciler is off (it would publish 127.0.0.1, which no
    pod can reach), so the real node publishes the Endpoints and the EndpointSlice itself.
    """
    port, address = node.cluster.apiserver_port, node.node_ip
    return [
        {"apiVersion": "v1", "kind": "Endpoints",
         "metadata": {"name": "kubernetes", "namespace": "default",
                      "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
         "subsets": [{"addresses": [{"ip": address}],
                      "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "kubernetes", "namespace": "default",
                      "labels": {"kubernetes.io/service-name": "kubernetes",
                                 "endpointslice.kubernetes.io/managed-by": FIELD_MANAGER}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
         "ports": [{"name": "https", "port": port, "protocol": "TCP"}]},
    ]


def publish_apiserver_endpoints(node: NodeLayout, kubectl: Kubectl) -> None:
    document = {"apiVersion": "v1", "kind": "List", "items": apiserver_endpoints(node)}
    kubectl.run("apply", "--server-side", "--force-conflicts",
                f"--field-manager={FIELD_MANAGER}", "-f", "-", stdin=json.dumps(document))


def write_kube_proxy_config(node: NodeLayout) -> None:
    pki = node.cluster.pki
    make_client(pki, "ca", "kube-proxy", KUBE_PROXY_USER)
    node.kube_proxy_kubeconfig.write_text(
        components.kubeconfig_document(node.cluster, "kube-proxy"))
    node.kube_proxy_kubeconfig.chmod(0o600)
    node.kube_proxy_config.write_text(
        json.dumps(kube_proxy_configuration(node), indent=2) + "\n")


def clean_rules(node: NodeLayout) -> None:
    subprocess.run(kube_proxy_cleanup_command(node), capture_output=True, text=True,
                   timeout=60)
