"""The operator as a user runs it: `arcdesk operator run --namespace NS` in a subprocess
against the devcluster, plus a DesktopProfile of its own per test.

Import the fixtures into a test module with
``from tests.cluster.operator_fixture import operator_fixture, profile_fixture  # noqa: F401``
and ask for them as ``operator`` and ``profile``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from devcluster.kit import TEST_IMAGE, OperatorProcess


@pytest.fixture(name="operator")
def operator_fixture(kubeconfig: Path, namespace: str, tmp_path: Path) -> Iterator[OperatorProcess]:
    """The operator serving ``namespace``; stopped (SIGTERM) after the test."""
    process = OperatorProcess(kubeconfig, [namespace], tmp_path / "operator.log")
    process.start()
    yield process
    process.stop()
    print(f"--- operator log (tail) ---\n{process.log_tail()}")  # shown when a test fails


@pytest.fixture(name="profile")
def profile_fixture(api: client.ApiClient, crds: list[str]) -> Iterator[str]:
    """A DesktopProfile of this test's own (profiles are cluster-scoped)."""
    name = f"t-{secrets.token_hex(4)}"
    custom = client.CustomObjectsApi(api)
    custom.create_cluster_custom_object("arcdesk.dev", "v1alpha1", "desktopprofiles", {
        "apiVersion": "arcdesk.dev/v1alpha1", "kind": "DesktopProfile",
        "metadata": {"name": name, "labels": {"arcdesk.dev/test": "true"}},
        "spec": {"image": TEST_IMAGE, "resources": {"cpu": "10m", "memory": "64Mi"}},
    })
    yield name
    try:
        custom.delete_cluster_custom_object("arcdesk.dev", "v1alpha1", "desktopprofiles", name)
    except client.ApiException as error:
        if error.status != 404:
            raise
