"""Every failure of the instructor CLI is one clear line and an exit code, never a traceback:
unreachable cluster, CRDs missing, course not found, refused by validation, RBAC denial,
bad credentials; usage errors exit 2. Real API servers throughout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devcluster.kit import Kubectl
from tests.cluster.cli_helpers import (
    arcdesk,
    bare_apiserver,
    free_port,
    one_line_error,
    server_kubeconfig,
    token_kubeconfig,
)

pytestmark = pytest.mark.cluster


def course_file(tmp_path: Path, name: str = "bio", **spec: object) -> Path:
    body = {"title": "Bioimage data", "profile": "base", "seats": {"count": 2}, **spec}
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps({"apiVersion": "arcdesk.dev/v1alpha1", "kind": "Course",
                                "metadata": {"name": name}, "spec": body}))
    return path


def test_unreachable_cluster(kubeconfig: Path, tmp_path: Path) -> None:
    closed = server_kubeconfig(kubeconfig, f"https://127.0.0.1:{free_port()}",
                               tmp_path / "k.yaml")
    message = one_line_error(arcdesk("course", "list", "--kubeconfig", str(closed)))
    assert message.startswith("cannot reach the Kubernetes API server at https://127.0.0.1:")
    assert "(connection refused)" in message and "--kubeconfig/--context" in message


def test_missing_or_broken_kubeconfig(tmp_path: Path, kubeconfig: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert one_line_error(arcdesk("course", "list", "--kubeconfig", str(missing))) == \
        f"no kubeconfig at {missing}: pass --kubeconfig FILE or set KUBECONFIG"
    message = one_line_error(arcdesk("course", "list", "--kubeconfig", str(kubeconfig),
                                     "--context", "elsewhere"))
    assert message == "no context 'elsewhere' in the kubeconfig (contexts: arcdesk-devcluster)"


def test_crds_missing_says_how_to_install(kubeconfig: Path, tmp_path: Path) -> None:
    with bare_apiserver(kubeconfig, tmp_path) as bare:
        listed = one_line_error(arcdesk("course", "list", "--kubeconfig", str(bare)))
        shown = one_line_error(arcdesk("course", "show", "bio", "--kubeconfig", str(bare)))
        created = one_line_error(arcdesk("course", "create", "-f", str(course_file(tmp_path)),
                                         "--kubeconfig", str(bare)))
    for message in (listed, shown, created):
        assert message.startswith("the arcdesk CRDs are not installed in this cluster")
        assert "kubectl apply --server-side -f charts/arcdesk/crds/" in message
        assert "helm install" in message


def test_course_not_found(kubeconfig: Path, namespace: str) -> None:
    base = ["--kubeconfig", str(kubeconfig), "-n", namespace]
    for verb in (["show", "ghost"], ["scale", "ghost", "--seats", "3"],
                 ["suspend", "ghost"], ["delete", "ghost", "--yes"]):
        message = one_line_error(arcdesk("course", *verb, *base))
        assert message == f"course ghost not found in namespace {namespace} " \
            "(see `arcdesk course list`)", verb
    assert one_line_error(arcdesk("seats", "list", "ghost", *base)).startswith(
        "course ghost not found")


def test_validation_refused_by_the_api_server(kubeconfig: Path, namespace: str,
                                              tmp_path: Path) -> None:
    bad = course_file(tmp_path, seats={"count": 0}, idle={"timeout": "1m"})
    message = one_line_error(arcdesk("course", "create", "-f", str(bad),
                                     "--kubeconfig", str(kubeconfig), "-n", namespace))
    assert message.startswith("the API server refused course bio: ")
    assert "spec.seats.count: Invalid value: 0: spec.seats.count in body should be greater " \
        "than or equal to 1" in message
    assert "spec.idle.timeout: " in message and "idle.timeout must be at least 5m" in message


def test_create_twice_points_to_apply(kubeconfig: Path, namespace: str,
                                      tmp_path: Path) -> None:
    path = course_file(tmp_path)
    base = ["-f", str(path), "--kubeconfig", str(kubeconfig), "-n", namespace]
    assert arcdesk("course", "create", *base).exit_code == 0
    assert one_line_error(arcdesk("course", "create", *base)) == (
        f"course bio already exists in namespace {namespace}: use "
        "`arcdesk course apply -f FILE` to change it")
    applied = arcdesk("course", "apply", *base)
    assert applied.exit_code == 0 and "course bio applied" in applied.stdout


def test_rbac_denial_names_verb_and_resource(kubeconfig: Path, kubectl: Kubectl,
                                             namespace: str, tmp_path: Path) -> None:
    kubectl.run("create", "serviceaccount", "nobody", "-n", namespace)
    token = kubectl.run("create", "token", "nobody", "-n", namespace).stdout.strip()
    config = token_kubeconfig(kubeconfig, token, namespace, tmp_path / "nobody.yaml")
    user = f"system:serviceaccount:{namespace}:nobody"
    listed = one_line_error(arcdesk("course", "list", "--kubeconfig", str(config)))
    assert listed == (f"not allowed: user '{user}' cannot list courses.arcdesk.dev in "
                      f"namespace {namespace} (ask a cluster admin for access)")
    created = one_line_error(arcdesk("course", "create", "-f", str(course_file(tmp_path)),
                                     "--kubeconfig", str(config)))
    assert created == (f"not allowed: user '{user}' cannot create courses.arcdesk.dev in "
                       f"namespace {namespace} (ask a cluster admin for access)")
    profiles = one_line_error(arcdesk("profile", "list", "--kubeconfig", str(config)))
    assert profiles.startswith(f"not allowed: user '{user}' cannot list "
                               "desktopprofiles.arcdesk.dev (ask")


def test_bad_credentials(kubeconfig: Path, namespace: str, tmp_path: Path) -> None:
    config = token_kubeconfig(kubeconfig, "not-a-valid-token", namespace, tmp_path / "k.yaml")
    assert one_line_error(arcdesk("course", "list", "--kubeconfig", str(config))) == (
        "the API server did not accept your credentials (401 Unauthorized): check the "
        "kubeconfig's user, or log in again")


def test_usage_errors_exit_2(kubeconfig: Path, namespace: str, tmp_path: Path) -> None:
    base = ["--kubeconfig", str(kubeconfig), "-n", namespace]
    assert arcdesk("course", "list", "-o", "xml", *base).exit_code == 2
    assert arcdesk("course", "scale", "bio", *base).exit_code == 2  # --seats missing
    assert one_line_error(arcdesk("course", "delete", "bio", *base), 2) == (
        "Delete course bio with its desktops and links? Refusing without a terminal: "
        "pass --yes")
    assert one_line_error(arcdesk("course", "extend", "bio", "--by", "2x", *base), 2) == (
        "--by '2x' is not a duration like 30m, 2h, 1h30m or 1d")
    assert one_line_error(arcdesk("course", "extend", "bio", *base), 2) == (
        "give exactly one of --until TIME or --by DURATION")
    missing = tmp_path / "missing.yaml"
    assert one_line_error(arcdesk("course", "create", "-f", str(missing), *base), 2) == (
        f"{missing}: cannot read: No such file or directory")
    other = course_file(tmp_path)
    other.write_text(other.read_text().replace('"name": "bio"',
                                               '"name": "bio", "namespace": "elsewhere"'))
    assert one_line_error(arcdesk("course", "create", "-f", str(other), *base), 2) == (
        f"{other}: course bio is in namespace elsewhere, but --namespace is {namespace}")
