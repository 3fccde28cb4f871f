"""The admin's path: `helm install` of charts/arcdesk with devcluster/values-realnode.yaml runs
the operator and the gateway as pods on the real node, pulled from the registry by digest,
under Pod Security `restricted`; the gateway answers at its NodePort on the node IP."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.kit import Kubectl, wait_for
from tests.cluster.chart_helpers import CHART, HELM, isolated_helm
from tests.e2e.conftest import KUBECONFIG, NODE_NAME, REPO

VALUES = REPO / "devcluster" / "values-realnode.yaml"


@pytest.fixture
def release(namespace: str, pushed_operator: str, tmp_path: Path) -> Iterator[str]:
    if not HELM.exists():
        pytest.fail(f"no helm at {HELM}: run `make cluster-up` (it installs helm and kubectl)")
    helm = isolated_helm(KUBECONFIG, tmp_path)
    digest = pushed_operator.split("@")[1]
    helm.run("install", "arcdesk", str(CHART), "-n", namespace, "-f", str(VALUES),
             "--set", f"image.digest={digest}", "--set", "desktops.defaultProfiles=false",
             "--set", "gateway.service.nodePort=0", "--wait", "--timeout", "120s")
    yield digest
    helm.run("uninstall", "arcdesk", "-n", namespace, "--wait", check=False)


def test_helm_install_runs_operator_and_gateway_pods_from_the_registry(
        kubectl: Kubectl, real_node: dict, namespace: str, release: str) -> None:
    pods = kubectl.get_json("pods", "-n", namespace)["items"]
    components = {p["metadata"]["labels"]["app.kubernetes.io/component"]: p for p in pods}
    assert set(components) == {"operator", "gateway"}, sorted(components)
    for name, pod in components.items():
        assert pod["spec"]["nodeName"] == NODE_NAME, name
        status = pod["status"]["containerStatuses"][0]
        assert status["ready"], (name, status)
        assert status["imageID"].endswith(release), (name, status["imageID"])
        assert pod["spec"]["containers"][0]["image"].endswith("@" + release)

    service = kubectl.get_json("service", "arcdesk-gateway", "-n", namespace)
    node_port = service["spec"]["ports"][0]["nodePort"]
    node_ip = next(a["address"] for a in real_node["status"]["addresses"]
                   if a["type"] == "InternalIP")

    def healthz() -> str | None:
        try:
            with urllib.request.urlopen(f"http://{node_ip}:{node_port}/healthz",
                                        timeout=5) as response:
                return response.read().decode()
        except OSError:
            return None
    assert wait_for("the gateway pod through its NodePort", healthz, 30).strip() == "ok"
