"""Objects the devcluster creates in itself: KWOK nodes and the default StorageClass."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from devcluster.kit import Kubectl

NODE_POOL_LABEL = "arcdesk.dev/node-pool"
LEGACY_PV_POOL_LABEL = "arcdesk.dev/devcluster-pv"
HOSTPATH_PROVISIONER = "kubernetes.io/host-path"
CONFIG_FILE = Path(__file__).resolve().parent / "nodes.toml"


def load_config(path: Path = CONFIG_FILE) -> dict:
    with path.open("rb") as config:
        return tomllib.load(config)


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
    """The default class, served by kube-controller-manager's hostPath provisioner.

    A PVC gets a fresh PV (a directory under /tmp/hostpath_pv/) as soon as it is created, and
    deleting the PVC deletes the PV and its directory: test and benchmark churn never exhausts
    the storage, which a fixed pool of static PVs did. Development only, as upstream says.
    """
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": name,
                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": HOSTPATH_PROVISIONER,
        "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Delete",
    }


def ensure_storage_class(kubectl: Kubectl, config: dict) -> None:
    """Create the default StorageClass, replacing one with another provisioner (immutable)."""
    wanted = storage_class_manifest(config["volumes"]["storage_class"])
    name = wanted["metadata"]["name"]
    existing = kubectl.get_json("storageclass")["items"]
    if any(item["metadata"]["name"] == name and item["provisioner"] != HOSTPATH_PROVISIONER
           for item in existing):
        kubectl.run("delete", "storageclass", name)
    kubectl.run("apply", "--server-side", "--field-manager=arcdesk-devcluster", "-f", "-",
                stdin=json.dumps(wanted))


def delete_legacy_pool(kubectl: Kubectl) -> int:
    """Remove the unclaimed static PVs an older devcluster made; returns how many."""
    pool = kubectl.get_json("pv", "-l", f"{LEGACY_PV_POOL_LABEL}=true")["items"]
    unused = [pv["metadata"]["name"] for pv in pool
              if pv.get("status", {}).get("phase") in ("Available", "Released", "Pending")]
    for start in range(0, len(unused), 200):
        batch = unused[start:start + 200]
        kubectl.run("delete", "pv", "--wait=false", "--ignore-not-found", *batch)
    return len(unused)
