"""Helm for chart tests: the devcluster's helm binary with a private HOME, the chart paths."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "arcdesk"
HELM = REPO / ".devcluster" / "bin" / "helm"
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
ALL_OPTIONS = REPO / "tests" / "data" / "chart-values-all.yaml"
FIELD_MANAGER = "arcdesk-chart-test"


@dataclass(frozen=True)
class Helm:
    kubeconfig: Path
    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(HELM), f"--kubeconfig={self.kubeconfig}", *args],
                                capture_output=True, text=True, timeout=150, env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def template(self, *args: str) -> list[dict[str, Any]]:
        out = self.run("template", "rel", str(CHART), *args).stdout
        return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def helm(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    if not HELM.exists():
        pytest.fail(f"no helm at {HELM}: run `make cluster-up` (it installs helm and kubectl)")
    return isolated_helm(kubeconfig, tmp_path_factory.mktemp("helm"))


def isolated_helm(kubeconfig: Path, home: Path) -> Helm:
    """Helm with its cache, config and data under ``home``: the user's stay untouched."""
    env = {**os.environ, **{f"HELM_{kind}_HOME": str(home / kind.lower())
                            for kind in ("CACHE", "CONFIG", "DATA")}}
    return Helm(kubeconfig, env)


def container(docs: list[dict[str, Any]], component: str) -> dict[str, Any]:
    deployment = next(doc for doc in docs if doc["kind"] == "Deployment" and doc["metadata"][
        "labels"]["app.kubernetes.io/component"] == component)
    found: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return found
