"""The Helm chart charts/arcdesk installed on the devcluster: install → upgrade → uninstall
(pods admitted under Pod Security `restricted`, CRDs and retained homes kept), and the
operator and gateway doing their work with only the chart's RBAC.
"""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from arcdesk.api import labels
from arcdesk.api.model import parse_course
from arcdesk.build import desired
from devcluster.kit import ARCDESK, Kubectl, OperatorProcess, free_port, gateway_indexed, wait_for
from tests.cluster.chart_helpers import (
    CHART,
    REPO,
    Helm,
    container,
)
from tests.cluster.chart_helpers import helm as helm
from tests.cluster.operator_fixture import profile_fixture as profile_fixture
from tests.cluster.operator_helpers import Namespace

# A 403 status as a word of its own: a random port such as 40403 in a log line is not one.
FORBIDDEN_STATUS = re.compile(r"\b403\b")

# --- install, upgrade, uninstall ----------------------------------------------------------

@dataclass(frozen=True)
class Release:
    name: str
    namespace: str  # the release's own namespace (restricted)
    courses: str  # the namespace whose Courses it serves (restricted)

    @property
    def selector(self) -> str:
        return f"app.kubernetes.io/instance={self.name}"



@pytest.fixture
def release(api: client.ApiClient, helm: Helm, namespace: str) -> Iterator[Release]:
    """A release name and a second restricted namespace for its courses; cleaned up after."""
    core = client.CoreV1Api(api)
    courses = f"{namespace}-courses"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=courses, labels={"pod-security.kubernetes.io/enforce": "restricted",
                              "arcdesk.dev/test": "true"})))
    made = Release(f"arcdesk-{secrets.token_hex(3)}", namespace, courses)
    yield made
    helm.run("uninstall", made.name, "-n", namespace, "--ignore-not-found", check=False)
    core.delete_namespace(courses)


def install_values(release: Release, host: str, replicas: int, memory: str) -> list[str]:
    # DesktopProfiles are cluster-wide and shared with other tests: the dry run covers them.
    return ["--set", f"namespaces={{{release.courses}}}", "--set", "desktops.defaultProfiles=false",
            "--set", "desktops.priorityClass.enabled=true",
            "--set", "gateway.ingress.enabled=true", "--set", f"gateway.ingress.host={host}",
            "--set", f"gateway.replicas={replicas}",
            "--set", f"operator.resources.limits.memory={memory}"]


def running_pods(kubectl: Kubectl, release: Release, component: str,
                 count: int) -> list[dict[str, Any]] | None:
    pods = kubectl.get_json("pods", "-n", release.namespace, "-l",
                            f"{release.selector},app.kubernetes.io/component={component}")
    live = [pod for pod in pods["items"] if not pod["metadata"].get("deletionTimestamp")]
    ready = [pod for pod in live if pod["status"].get("phase") == "Running"]
    return ready if len(ready) == len(live) == count else None


def wait_for_pods(kubectl: Kubectl, release: Release, component: str, count: int,
                  ) -> list[dict[str, Any]]:
    try:
        return wait_for(f"{count} Running {component} pod(s)",
                        lambda: running_pods(kubectl, release, component, count), timeout=60)
    except AssertionError as error:  # name the admission failure, if that is what happened
        sets = kubectl.get_json("replicasets", "-n", release.namespace, "-l", release.selector)
        conditions = [rs["status"].get("conditions") for rs in sets["items"]]
        raise AssertionError(f"{error}; ReplicaSet conditions: {conditions}") from error


# Enough is proven by running both with these grants (the last test); here: nothing more.
CAN_I = [  # (component, verb, resource, in the served namespace?, expected)
    ("operator", "create", "seats.arcdesk.dev", True, "yes"),
    ("operator", "create", "desktopprofiles.arcdesk.dev", True, "no"),
    ("operator", "watch", "storageclasses.storage.k8s.io", False, "yes"),
    ("operator", "create", "storageclasses.storage.k8s.io", False, "no"),
    ("operator", "create", "seats.arcdesk.dev", False, "no"),
    ("operator", "create", "deployments.apps", True, "no"),
    ("operator", "delete", "courses.arcdesk.dev", True, "no"),
    ("gateway", "patch", "seats.arcdesk.dev", True, "yes"),
    ("gateway", "create", "secrets", True, "no"),
    ("gateway", "delete", "seats.arcdesk.dev", True, "no"),
    ("gateway", "list", "secrets", False, "no"),
]


def check_rbac(kubectl: Kubectl, release: Release) -> None:
    for component, verb, resource, served, expected in CAN_I:
        where = release.courses if served else release.namespace
        account = f"system:serviceaccount:{release.namespace}:{release.name}-{component}"
        answer = kubectl.run("auth", "can-i", verb, resource, "-n", where,
                             f"--as={account}", check=False).stdout.strip()
        assert answer == expected, f"{component} {verb} {resource} in {where}: {answer}"


def create_retained_home(kubectl: Kubectl, release: Release) -> str:
    """A home PVC exactly as the operator makes it under reclaimPolicy Retain: ownerless."""
    document = yaml.safe_load((REPO / "examples" / "course-basic.yaml").read_text())
    document["metadata"]["namespace"] = release.courses
    course = parse_course(document)
    claim = desired.home_claim(course, course.trainees[0], None)
    assert course.reclaim_policy == "Retain" and not claim["metadata"].get("ownerReferences")
    kubectl.apply(claim, f"--field-manager={labels.FIELD_MANAGER}")
    return str(claim["metadata"]["name"])


def test_install_upgrade_uninstall(helm: Helm, kubectl: Kubectl, crds: list[str],
                                   release: Release, tmp_path: Path) -> None:
    name, ns = release.name, release.namespace
    helm.run("install", name, str(CHART), "-n", ns,
             *install_values(release, "one.example.org", 1, "384Mi"))
    for kind in ("deployment", "service", "ingress", "serviceaccount", "networkpolicy"):
        assert kubectl.get_json(kind, "-n", ns, "-l", release.selector)["items"], kind
    for kind in ("role", "rolebinding"):
        assert len(kubectl.get_json(kind, "-n", release.courses, "-l",
                                    release.selector)["items"]) == 2, kind
    wait_for_pods(kubectl, release, "operator", 1)
    wait_for_pods(kubectl, release, "gateway", 1)
    check_rbac(kubectl, release)
    operator = kubectl.get_json("deployment", f"{name}-operator", "-n", ns)
    assert operator["spec"]["strategy"] == {  # the new pod stands by until the old one leaves
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert operator["spec"]["replicas"] == 1
    kubectl.get_json("priorityclass", f"{name}-desktop")

    helm.run("upgrade", name, str(CHART), "-n", ns,
             *install_values(release, "two.example.org", 2, "512Mi"))
    ingress = kubectl.get_json("ingress", f"{name}-gateway", "-n", ns)
    assert ingress["spec"]["rules"][0]["host"] == "two.example.org"
    assert len(wait_for_pods(kubectl, release, "gateway", 2)) == 2
    pods = wait_for("the operator pod with the new memory limit", lambda: [
        pod for pod in running_pods(kubectl, release, "operator", 1) or []
        if pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "512Mi"])
    assert len(pods) == 1

    home = create_retained_home(kubectl, release)
    helm.run("uninstall", name, "-n", ns, "--wait", "--timeout", "60s")
    wait_for("the release's Deployments gone", lambda: not kubectl.get_json(
        "deployments", "-n", ns, "-l", release.selector)["items"])
    for kind in ("clusterrole", "clusterrolebinding", "priorityclass"):
        leftovers = kubectl.get_json(kind, "-l", release.selector)["items"]
        assert leftovers == [], f"{kind} left behind: {leftovers}"
    assert not kubectl.get_json("role", "-n", release.courses, "-l", release.selector)["items"]
    for crd in crds:  # CRDs (crds/) stay: deleting them would delete every Course
        kubectl.get_json("crd", crd)
    claim = kubectl.get_json("pvc", home, "-n", release.courses)
    assert not claim["metadata"].get("deletionTimestamp"), "a retained home is being deleted"


# --- the real operator and gateway, with nothing but the chart's RBAC ----------------------

def service_account_kubeconfig(kubectl: Kubectl, release: Release, component: str,
                               path: Path) -> Path:
    """A kubeconfig holding a short-lived token of the chart's ServiceAccount (TokenRequest)."""
    token = kubectl.run("create", "token", f"{release.name}-{component}", "-n",
                        release.namespace, "--duration=10m").stdout.strip()
    cluster = yaml.safe_load(kubectl.kubeconfig.read_text())["clusters"][0]
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "clusters": [cluster],
        "users": [{"name": component, "user": {"token": token}}],
        "contexts": [{"name": component, "context": {"cluster": cluster["name"],
                                                     "user": component}}],
        "current-context": component}))
    path.chmod(0o600)
    return path


def gateway_health(port: int, metrics_port: int, process: subprocess.Popen[bytes],
                   ) -> dict[str, float] | None:
    """What the gateway indexed (its metrics listener), once /healthz says ok and both
    seats and their Secrets are in."""
    if process.poll() is not None:
        raise AssertionError("the gateway exited")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            if response.read() != b"ok\n":
                return None
    except OSError:
        return None
    indexed = gateway_indexed(metrics_port)
    return indexed if indexed.get("seats") == 2 and indexed.get("credentials") == 2 else None


def refused(operator: OperatorProcess) -> list[str]:
    """The operator's requests the API server refused (403), from its /metrics."""
    return [line for line in operator.metrics().splitlines()
            if line.startswith("arcdesk_api_requests_total") and 'code="403"' in line]


def test_operator_and_gateway_work_with_only_the_charts_rbac(
        helm: Helm, kubectl: Kubectl, api: client.ApiClient, release: Release, profile: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helm.run("install", release.name, str(CHART), "-n", release.namespace, "--set",
             f"namespaces={{{release.courses}}}", "--set", "desktops.defaultProfiles=false")
    gateway_pod = kubectl.get_json("deployment", f"{release.name}-gateway", "-n",
                                   release.namespace)["spec"]["template"]["metadata"]
    for variable in container([kubectl.get_json("deployment", f"{release.name}-operator", "-n",
                                                release.namespace)], "operator")["env"]:
        monkeypatch.setenv(variable["name"], variable["value"])  # the pod's environment
    Namespace(api, release.courses).create_course("rbac", profile, {"count": 2})
    args = container([kubectl.get_json("deployment", f"{release.name}-operator", "-n",
                                       release.namespace)], "operator")["args"]
    lease = args[args.index("--lease") + 1]  # leader election, under the chart's lease Role
    operator = OperatorProcess(
        service_account_kubeconfig(kubectl, release, "operator", tmp_path / "operator.kubeconfig"),
        [release.courses], tmp_path / "operator.log", "--lease", lease)
    port, metrics_port, gateway_log = free_port(), free_port(), tmp_path / "gateway.log"
    gateway_config = service_account_kubeconfig(kubectl, release, "gateway",
                                                tmp_path / "gateway.kubeconfig")
    with gateway_log.open("wb") as out:
        gateway = subprocess.Popen(
            [str(ARCDESK), "gateway", "run", "--port", str(port), "--metrics-host", "127.0.0.1",
             "--metrics-port", str(metrics_port), "--namespace", release.courses,
             "--kubeconfig", str(gateway_config)],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        operator.start()
        courses = Namespace(api, release.courses)
        # A refused request fails at once, with the API server's answer in the log.
        courses.wait_course("rbac", "2/2 seats ready, or a request refused", lambda course: (
            bool(refused(operator)) or (course.get("status") or {}).get("seats", {}).get(
                "ready") == 2))
        denied = [line for line in operator.log.read_text().splitlines() if "forbidden" in line]
        assert refused(operator) == [], f"the API server refused the operator: {denied[-1:]}"
        courses.wait_ready("rbac", seats=2)
        # The course's desktop NetworkPolicy must admit this release's gateway pods.
        peer = next(iter(courses.policies().values()))["spec"]["ingress"][0]["from"][0]
        assert peer["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": release.namespace}, "desktops refuse this gateway"
        assert peer["podSelector"]["matchLabels"].items() <= gateway_pod["labels"].items()
        assert operator.metric("arcdesk_api_requests_total", verb="POST", code="201") > 0
        assert operator.metric("arcdesk_operator_leader") == 1
        holder = kubectl.get_json("lease", lease.split("/")[1], "-n", release.namespace)
        assert holder["spec"]["holderIdentity"].startswith(socket.gethostname() + "_")
        forbidden = [line for line in operator.log.read_text().splitlines()
                     if "Forbidden" in line or FORBIDDEN_STATUS.search(line)]
        assert forbidden == [], forbidden
        health = wait_for("the gateway indexing both seats and their Secrets",
                          lambda: gateway_health(port, metrics_port, gateway), timeout=30)
        assert health["courses"] == 1, health
        assert not FORBIDDEN_STATUS.search(gateway_log.read_text()), gateway_log.read_text()
    finally:
        operator.stop()
        gateway.terminate()
        gateway.wait(timeout=15)
        print(f"--- operator log ---\n{operator.log_tail()}\n--- gateway log ---\n"
              f"{gateway_log.read_text(errors='replace')[-3000:]}")
