"""Objects the devcluster creates in itself: KWOK nodes, StorageClass, PV pool."""

from __future__ import annotations

import json
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

NODE_POOL_LABEL = "arcdesk.dev/node-pool"
PV_POOL_LABEL = "arcdesk.dev/devcluster-pv"
CONFIG_FILE = Path(__file__).resolve().parent / "nodes.toml"
PARALLEL_WRITERS = 4


def load_config(path: Path = CONFIG_FILE) -> dict:
    with path.open("rb") as config:
        return tomllib.load(config)


@dataclass(frozen=True)
class Kubectl:
    """Runs the devcluster's kubectl against its admin kubeconfig."""

    binary: Path
    kubeconfig: Path

    def run(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(self.binary), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed:\n{result.stderr.strip()}")
        return result.stdout

    def get_json(self, *args: str) -> dict:
        return json.loads(self.run("get", *args, "-o", "json"))

    def create(self, manifests: list[dict]) -> None:
        """Create objects, split over a few kubectl processes to overlap round trips."""
        chunks = [manifests[i::PARALLEL_WRITERS] for i in range(PARALLEL_WRITERS)]
        documents = [json.dumps({"apiVersion": "v1", "kind": "List", "items": chunk})
                     for chunk in chunks if chunk]
        with ThreadPoolExecutor(len(documents) or 1) as pool:
            list(pool.map(lambda doc: self.run("create", "-f", "-", stdin=doc), documents))


def node_manifest(pool: dict, index: int) -> dict:
    name = f"kwok-{pool['name']}-{index}"
    resources = {"cpu": pool["cpu"], "memory": pool["memory"], "pods": str(pool["pods"])}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "type": "kwok",
                NODE_POOL_LABEL: pool["name"], **pool.get("labels", {}),
            },
        },
        "spec": {"taints": pool.get("taints", [])},
        "status": {"allocatable": resources, "capacity": resources},
    }


def ensure_nodes(kubectl: Kubectl, config: dict) -> int:
    """Create the configured KWOK nodes that do not exist yet; returns how many."""
    existing = {item["metadata"]["name"]
                for item in kubectl.get_json("nodes", "-l", "type=kwok")["items"]}
    wanted = [node_manifest(pool, index)
              for pool in config["pools"] for index in range(pool["count"])]
    missing = [node for node in wanted if node["metadata"]["name"] not in existing]
    kubectl.create(missing)
    return len(missing)


def storage_class_manifest(name: str) -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": name,
                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Retain",
    }


def volume_manifest(volumes: dict, index: int, pv_root: Path) -> dict:
    name = f"devcluster-pv-{index:05d}"
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {PV_POOL_LABEL: "true"}},
        "spec": {
            "capacity": {"storage": volumes["size"]},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": volumes["storage_class"],
            "hostPath": {"path": str(pv_root / name), "type": "DirectoryOrCreate"},
        },
    }


def ensure_storage(kubectl: Kubectl, config: dict, pv_root: Path) -> int:
    """Default StorageClass plus enough Available PVs; returns how many PVs were made."""
    volumes = config["volumes"]
    kubectl.run("apply", "--server-side", "--field-manager=arcdesk-devcluster", "-f", "-",
                stdin=json.dumps(storage_class_manifest(volumes["storage_class"])))
    pool = kubectl.get_json("pv", "-l", f"{PV_POOL_LABEL}=true")["items"]
    available = sum(1 for pv in pool if not pv["spec"].get("claimRef")
                    and pv.get("status", {}).get("phase", "Pending") in ("Pending", "Available"))
    shortfall = max(0, volumes["available"] - available)
    next_index = 1 + max((int(pv["metadata"]["name"].rsplit("-", 1)[1]) for pv in pool),
                         default=0)
    kubectl.create([volume_manifest(volumes, next_index + offset, pv_root)
                    for offset in range(shortfall)])
    return shortfall
