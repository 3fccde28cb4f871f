"""Admin commands against the devcluster: `profile list/show` and `capacity` from the
cluster's (KWOK) nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.cli_helpers import arcdesk, one_line_error
from tests.cluster.operator_fixture import profile_fixture  # noqa: F401 - fixture

pytestmark = pytest.mark.cluster


def test_profile_list_and_show(kubeconfig: Path, profile: str) -> None:
    rows = json.loads(arcdesk("profile", "list", "-o", "json", "--kubeconfig",
                              str(kubeconfig)).stdout)
    mine = next(r for r in rows if r["name"] == profile)
    assert (mine["cpu"], mine["memory"], mine["gpu"]) == ("10m", "64Mi", False)
    table = arcdesk("profile", "list", "--kubeconfig", str(kubeconfig)).stdout
    assert table.splitlines()[0].split() == ["NAME", "DISPLAY", "IMAGE", "CPU", "MEMORY",
                                             "GPU", "APPS", "AGE"]
    shown = arcdesk("profile", "show", profile, "-o", "yaml", "--kubeconfig", str(kubeconfig))
    assert shown.exit_code == 0 and f"name: {profile}" in shown.stdout
    assert one_line_error(arcdesk("profile", "show", "no-such-profile", "--kubeconfig",
                                  str(kubeconfig))) == \
        "desktop profile no-such-profile not found (see `arcdesk profile list`)"


def capacity(kubeconfig: Path, tmp_path: Path, profile: str, seats: int,
             **spec: Any) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "course.yaml"
    path.write_text(json.dumps({"apiVersion": "arcdesk.dev/v1alpha1", "kind": "Course",
                                "metadata": {"name": "bio"}, "spec": {
                                    "title": "T", "profile": profile,
                                    "seats": {"count": seats}, **spec}}))
    result = arcdesk("capacity", str(path), "-o", "json", "--kubeconfig", str(kubeconfig))
    return result.exit_code, json.loads(result.stdout)


def test_capacity_from_the_cluster_nodes(kubeconfig: Path, profile: str,
                                         tmp_path: Path) -> None:
    code, fits = capacity(kubeconfig, tmp_path, profile, 3,
                          resources={"cpu": "1", "memory": "1Gi"})
    assert code == 0 and fits["fits"]
    [pool] = [p for p in fits["pools"] if p["pool"] == "default"]
    assert len(pool["nodes"]) >= 4 and all(n["name"].startswith("kwok-") for n in pool["nodes"])
    # A KWOK node is 32 CPU, 128Gi, 500 pods: empty, it holds 32 one-CPU desktops.
    assert pool["emptyNodeHolds"] == 32 and pool["nodesNeededWhenEmpty"] == 1
    assert fits["verdict"].startswith("fits: ")

    code, too_big = capacity(kubeconfig, tmp_path, profile, 2,
                             resources={"cpu": "64", "memory": "1Gi"})
    assert code == 1 and not too_big["fits"] and too_big["places"] == 0
    assert too_big["verdict"] == "does not fit: 0 free places for 2 seats"

    code, nowhere = capacity(kubeconfig, tmp_path, profile, 2,
                             nodeSelector={"arcdesk.dev/node-pool": "gpu"})
    assert code == 1 and nowhere["verdict"] == \
        "does not fit: no Ready, schedulable node matches arcdesk.dev/node-pool=gpu"


def test_shell_completion_offers_course_names(kubeconfig: Path, namespace: str,
                                              tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    for name in ("bio-101", "bio-102", "chem"):
        path.write_text(json.dumps({"apiVersion": "arcdesk.dev/v1alpha1", "kind": "Course",
                                    "metadata": {"name": name}, "spec": {
                                        "title": "T", "profile": "base",
                                        "seats": {"count": 1}}}))
        assert arcdesk("course", "create", "-f", str(path), "-n", namespace,
                       "--kubeconfig", str(kubeconfig)).exit_code == 0
    words = f"arcdesk course show --kubeconfig {kubeconfig} -n {namespace} bio"
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "arcdesk")], capture_output=True, text=True,
        timeout=60, env={**os.environ, "_ARCDESK_COMPLETE": "complete_bash",
                         "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["bio-101", "bio-102"]
