"""Local PersistentVolumes on the real node, for desktop homes.

The devcluster's default pool is hostPath, which ignores fsGroup: a non-root desktop would
get a root-owned home. `local` volumes honour fsGroup, and their node affinity pins them
(and so their pods) to the real node. StorageClass devcluster-real-local binds on first
consumer, so a claim waits for its pod's scheduling instead of grabbing any volume.
"""

from __future__ import annotations

import json

from devcluster.kit import Kubectl
from devcluster.node_layout import NodeLayout

STORAGE_CLASS = "devcluster-real-local"
POOL_LABEL = "arcdesk.dev/devcluster-real-pv"
POOL_SIZE = 32  # each e2e run and each course seat (Retain) uses one up; `up` tops up


def storage_class() -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS},
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Retain",
    }


def local_volume(node: NodeLayout, index: int) -> dict:
    name = f"{node.name}-pv-{index:03d}"
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {POOL_LABEL: node.name}},
        "spec": {
            "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": STORAGE_CLASS,
            "local": {"path": str(node.state / "pv" / name)},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node.name]}]}]}},
        },
    }


def ensure_local_volumes(node: NodeLayout, kubectl: Kubectl) -> int:
    """Keep POOL_SIZE unclaimed local volumes (Retain: released ones are never reused)."""
    kubectl.run("apply", "--server-side", "--field-manager=arcdesk-devcluster", "-f", "-",
                stdin=json.dumps(storage_class()))
    pool = kubectl.get_json("pv", "-l", f"{POOL_LABEL}={node.name}")["items"]
    free = sum(1 for pv in pool if not pv["spec"].get("claimRef"))
    next_index = 1 + max((int(pv["metadata"]["name"].rsplit("-", 1)[1]) for pv in pool),
                         default=0)
    wanted = [local_volume(node, next_index + offset) for offset in range(POOL_SIZE - free)]
    for volume in wanted:
        (node.state / "pv" / volume["metadata"]["name"]).mkdir(parents=True, exist_ok=True)
    kubectl.create(wanted)
    return len(wanted)
