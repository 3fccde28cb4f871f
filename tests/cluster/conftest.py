"""Cluster tier fixtures: the devcluster's real API server, CRDs, a fresh namespace per test.

`make test-cluster` starts the devcluster first; run alone, the tier fails (never skips)
with a message saying how to start it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from devcluster import kit

REPO = Path(__file__).resolve().parents[2]
KUBECONFIG = REPO / ".devcluster" / "kubeconfig"


@pytest.fixture(scope="session")
def kubeconfig() -> Path:
    """Path of the devcluster's admin kubeconfig; fails clearly when the cluster is down."""
    if not KUBECONFIG.exists():
        pytest.fail(f"no devcluster kubeconfig at {KUBECONFIG}: run `make cluster-up` first")
    if not kit.apiserver_ready(KUBECONFIG):
        pytest.fail("the devcluster API server does not answer /readyz: run `make cluster-up` "
                    f"(logs in {REPO / '.devcluster' / 'logs'})")
    return KUBECONFIG


@pytest.fixture(scope="session")
def api(kubeconfig: Path) -> client.ApiClient:
    """A kubernetes ApiClient for the devcluster's admin user."""
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture(scope="session")
def kubectl(kubeconfig: Path) -> kit.Kubectl:
    """Runs the devcluster's kubectl (from .devcluster/bin) with the admin kubeconfig."""
    return kit.Kubectl(REPO / ".devcluster" / "bin" / "kubectl", kubeconfig)


@pytest.fixture(scope="session")
def crds(kubectl: kit.Kubectl) -> list[str]:
    """Apply arcdesk's CRDs from charts/arcdesk/crds (server-side) and wait until Established."""
    return kit.install_crds(kubectl, "arcdesk-tests")


@contextlib.contextmanager
def restricted_namespace(api: client.ApiClient, prefix: str = "t-") -> Iterator[str]:
    """A fresh namespace enforcing Pod Security `restricted`, deleted (without waiting) after."""
    name = f"{prefix}{secrets.token_hex(4)}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"pod-security.kubernetes.io/enforce": "restricted",
                           "arcdesk.dev/test": "true"})))
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as error:
        if error.status != 404:
            raise


@pytest.fixture
def namespace(api: client.ApiClient, crds: list[str]) -> Iterator[str]:
    with restricted_namespace(api) as name:
        yield name
