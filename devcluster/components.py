"""Where the devcluster keeps its files, and the command line of each component."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from devcluster.pki import SERVICE_CIDR

REPO_ROOT = Path(__file__).resolve().parent.parent
VERSIONS_FILE = Path(__file__).resolve().parent / "versions.env"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node=fake"
POD_CIDR = "10.244.0.1/16"


def read_versions() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in VERSIONS_FILE.read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def default_etcd_dir(state: Path) -> Path:
    """etcd data on tmpfs, one directory per clone so two clones never share a cluster's data."""
    digest = hashlib.sha256(str(state.resolve()).encode()).hexdigest()[:10]
    return Path("/dev/shm") / f"arcdesk-devcluster-etcd-{digest}"


@dataclass(frozen=True)
class Layout:
    """Paths and ports of one devcluster (state under <repo>/.devcluster)."""

    state: Path
    bin_cache: Path
    etcd_data: Path
    apiserver_port: int
    etcd_client_port: int
    etcd_peer_port: int
    controller_manager_port: int
    scheduler_port: int
    registry_port: int
    registry_data: Path

    @classmethod
    def from_environment(cls) -> Layout:
        env = os.environ.get
        state = Path(env("ARCDESK_DEVCLUSTER_DIR") or REPO_ROOT / ".devcluster")
        cache = Path(env("ARCDESK_CACHE") or
                     Path(env("XDG_CACHE_HOME") or Path.home() / ".cache") / "arcdesk")
        return cls(
            state=state,
            bin_cache=cache / "devcluster" / read_versions()["K8S_VERSION"] / "bin",
            etcd_data=Path(env("ARCDESK_ETCD_DIR") or default_etcd_dir(state)),
            apiserver_port=int(env("ARCDESK_APISERVER_PORT") or 6443),
            etcd_client_port=int(env("ARCDESK_ETCD_PORT") or 12379),
            etcd_peer_port=int(env("ARCDESK_ETCD_PEER_PORT") or 12380),
            controller_manager_port=int(env("ARCDESK_KCM_PORT") or 10257),
            scheduler_port=int(env("ARCDESK_SCHEDULER_PORT") or 10259),
            registry_port=int(env("ARCDESK_REGISTRY_PORT") or 5000),
            registry_data=Path(env("ARCDESK_REGISTRY_DIR") or cache / "registry"),
        )

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def server_url(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    @property
    def registry_host(self) -> str:
        """The registry as image references name it: 127.0.0.1:<port>/arcdesk/..."""
        return f"127.0.0.1:{self.registry_port}"

    def binary(self, name: str) -> Path:
        return self.bin_cache / name

    def component_kubeconfig(self, name: str) -> Path:
        return self.state / "kubeconfigs" / f"{name}.kubeconfig"

    def ports(self) -> list[int]:
        return [self.apiserver_port, self.etcd_client_port, self.etcd_peer_port,
                self.controller_manager_port, self.scheduler_port, self.registry_port]


def kubeconfig_document(layout: Layout, client_stem: str) -> str:
    """A kubeconfig with the CA and client certificate embedded (portable)."""
    def embedded(name: str) -> str:
        return base64.b64encode((layout.pki / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "arcdesk-devcluster",
        "clusters": [{"name": "arcdesk-devcluster", "cluster": {
            "server": layout.server_url,
            "certificate-authority-data": embedded("ca.crt")}}],
        "users": [{"name": client_stem, "user": {
            "client-certificate-data": embedded(f"{client_stem}.crt"),
            "client-key-data": embedded(f"{client_stem}.key")}}],
        "contexts": [{"name": "arcdesk-devcluster", "context": {
            "cluster": "arcdesk-devcluster", "user": client_stem}}],
    }
    return json.dumps(config, indent=2) + "\n"


def write_kubeconfigs(layout: Layout) -> None:
    layout.component_kubeconfig("x").parent.mkdir(parents=True, exist_ok=True)
    for stem in ("kube-controller-manager", "kube-scheduler", "kwok"):
        layout.component_kubeconfig(stem).write_text(kubeconfig_document(layout, stem))
    layout.kubeconfig.write_text(kubeconfig_document(layout, "admin"))
    layout.kubeconfig.chmod(0o600)


def scheduler_config(layout: Layout) -> Path:
    """Higher client QPS than the default 50, so 1000 pods schedule in seconds."""
    path = layout.state / "kubeconfigs" / "kube-scheduler-config.json"
    path.write_text(json.dumps({
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(layout.component_kubeconfig("kube-scheduler")),
                             "qps": 500, "burst": 1000},
        "leaderElection": {"leaderElect": False},
    }))
    return path


def etcd_command(layout: Layout) -> list[str]:
    client = f"http://127.0.0.1:{layout.etcd_client_port}"
    peer = f"http://127.0.0.1:{layout.etcd_peer_port}"
    return [
        str(layout.binary("etcd")), "--name=devcluster", f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=devcluster={peer}", "--listen-metrics-urls=",
        "--unsafe-no-fsync=true",  # data lives on tmpfs anyway
        "--quota-backend-bytes=8589934592", "--log-level=warn",
    ]


def apiserver_command(layout: Layout) -> list[str]:
    pki = layout.pki
    return [
        str(layout.binary("kube-apiserver")),
        f"--etcd-servers=http://127.0.0.1:{layout.etcd_client_port}",
        "--bind-address=127.0.0.1", f"--secure-port={layout.apiserver_port}",
        "--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        # The real node's name does not resolve; reach its kubelet (logs, exec) by its IP.
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
        f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",  # PodSecurity is on by default
        "--allow-privileged=true",
        "--max-requests-inflight=1000", "--max-mutating-requests-inflight=500",
        "--profiling=false",
    ]


def controller_manager_command(layout: Layout) -> list[str]:
    kubeconfig = layout.component_kubeconfig("kube-controller-manager")
    pki = layout.pki
    return [
        str(layout.binary("kube-controller-manager")),
        f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1", f"--secure-port={layout.controller_manager_port}",
        f"--cert-dir={pki / 'kube-controller-manager-serving'}",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--enable-hostpath-provisioner=true",  # the default StorageClass (resources.py)
        "--use-service-account-credentials=true",
        f"--root-ca-file={pki / 'ca.crt'}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}",
        f"--cluster-signing-key-file={pki / 'ca.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--leader-elect=false", "--kube-api-qps=300", "--kube-api-burst=600",
        "--concurrent-gc-syncs=40", "--profiling=false",
    ]


def scheduler_command(layout: Layout) -> list[str]:
    kubeconfig = layout.component_kubeconfig("kube-scheduler")
    return [
        str(layout.binary("kube-scheduler")), f"--config={scheduler_config(layout)}",
        f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1", f"--secure-port={layout.scheduler_port}",
        f"--cert-dir={layout.pki / 'kube-scheduler-serving'}", "--profiling=false",
    ]


def kwok_command(layout: Layout) -> list[str]:
    return [
        str(layout.binary("kwok")),
        f"--kubeconfig={layout.component_kubeconfig('kwok')}",
        f"--config={layout.bin_cache / 'kwok-stages.yaml'}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}",
        "--node-lease-duration-seconds=40",
        f"--cidr={POD_CIDR}", "--node-ip=10.255.0.1",
    ]


def registry_config(layout: Layout) -> Path:
    """The CNCF distribution registry on loopback, plain HTTP, blobs and manifests on disk in
    the cache (outside the clone, so pushed images survive `down` and a fresh clone)."""
    layout.registry_data.mkdir(parents=True, exist_ok=True)
    path = layout.state / "kubeconfigs" / "registry-config.json"
    path.write_text(json.dumps({
        "version": "0.1",
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(layout.registry_data)},
                    "delete": {"enabled": True}},
        "http": {"addr": layout.registry_host, "secret": "devcluster-loopback-only",
                 "debug": {"addr": ""}},
    }))
    return path


def registry_command(layout: Layout) -> list[str]:
    return [str(layout.binary("registry")), "serve", str(registry_config(layout))]
