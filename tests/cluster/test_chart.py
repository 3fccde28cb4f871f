"""The Helm chart charts/arcdesk: lint, strict values schema, server-side dry runs of every
object, default DesktopProfiles equal to Python's, and install → upgrade → uninstall on the
devcluster (pods admitted under Pod Security `restricted`, CRDs and retained homes kept).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from typer.testing import CliRunner

from arcdesk import desired, labels, profiles, runner
from arcdesk.cli import gateway_cmds
from arcdesk.cli.main import app as arcdesk_cli
from arcdesk.model import parse_course
from tests.cluster.kube_helpers import Kubectl, wait_for
from tests.cluster.operator_fixture import ARCDESK, OperatorProcess, _free_port
from tests.cluster.operator_fixture import profile_fixture as profile_fixture
from tests.cluster.operator_helpers import Namespace

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
    home = tmp_path_factory.mktemp("helm")  # keep the user's helm config and cache untouched
    env = {**os.environ, **{f"HELM_{kind}_HOME": str(home / kind.lower())
                            for kind in ("CACHE", "CONFIG", "DATA")}}
    return Helm(kubeconfig, env)


# --- values and schema -----------------------------------------------------------------

def schema_at(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return schema_at(SCHEMA["definitions"][ref.split("/")[-1]]) if ref else node


def mismatches(values: Any, node: dict[str, Any], path: str) -> list[str]:
    """Where values.yaml and the schema disagree on keys; maps are checked for strictness."""
    node = schema_at(node)
    if "properties" not in node:
        if node.get("type") == "object" and not isinstance(node.get("additionalProperties"),
                                                           dict):
            return [f"{path or '/'}: a map needs an additionalProperties schema"]
        return []
    problems = [] if node.get("additionalProperties") is False else [
        f"{path or '/'}: additionalProperties must be false"]
    if not isinstance(values, dict):
        return [*problems, f"{path}: values.yaml has {values!r}, the schema an object"]
    declared, given = set(node["properties"]), set(values)
    problems += [f"{path}/{key}: in values.yaml, not in the schema" for key in given - declared]
    problems += [f"{path}/{key}: in the schema, not in values.yaml" for key in declared - given]
    for key in sorted(declared & given):
        problems += mismatches(values[key], node["properties"][key], f"{path}/{key}")
    return problems


def test_schema_keys_match_values_yaml() -> None:
    assert mismatches(VALUES, SCHEMA, "") == []
    # Array items and shared definitions are objects too: strict as well.
    for name, node in SCHEMA["definitions"].items():
        if "properties" in node:
            assert node.get("additionalProperties") is False, name


def test_mismatches_sees_a_missing_and_an_extra_key() -> None:
    values = {**VALUES, "extra": 1, "gateway": {k: v for k, v in VALUES["gateway"].items()
                                                if k != "port"}}
    assert sorted(mismatches(values, SCHEMA, "")) == [
        "/extra: in values.yaml, not in the schema",
        "/gateway/port: in the schema, not in values.yaml"]


def test_every_value_has_a_comment() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    stack: list[tuple[int, str]] = []
    uncommented = []
    for number, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z][\w.-]*):", line)
        if not match:
            continue
        indent, key = len(match[1]), match[2]
        stack = [(i, k) for i, k in stack if i < indent] + [(indent, key)]
        node: dict[str, Any] | None = SCHEMA
        for _, part in stack:  # only keys the schema declares; map entries are data
            node = schema_at(node).get("properties", {}).get(part) if node else None
        if node is not None and not lines[number - 1].strip().startswith("#"):
            uncommented.append("/".join(k for _, k in stack))
    assert uncommented == []


def test_lint_strict_with_defaults_and_every_option(helm: Helm) -> None:
    helm.run("lint", "--strict", str(CHART))
    helm.run("lint", "--strict", str(CHART), "-f", str(ALL_OPTIONS))


@pytest.mark.parametrize(("values", "message"), [
    ({"gateway": {"ingress": {"hots": "x"}}}, "additional properties 'hots' not allowed"),
    ({"gateway": {"replicas": "2"}}, "/gateway/replicas"),
    ({"namespaces": ["a", "b"]}, "the gateway serves one namespace or all"),
    ({"namespaces": ["a"], "clusterWide": True}, "namespaces must be empty when clusterWide"),
])
def test_contradictory_or_unknown_values_are_refused(helm: Helm, tmp_path: Path,
                                                     values: dict[str, Any],
                                                     message: str) -> None:
    file = tmp_path / "values.yaml"
    file.write_text(yaml.safe_dump(values))
    result = helm.run("template", "rel", str(CHART), "-f", str(file), check=False)
    assert result.returncode != 0, "helm rendered values it should refuse"
    assert message in result.stderr, result.stderr


# --- rendering, dry runs, default profiles ------------------------------------------------

RENDERINGS = {"defaults": (), "every-option": ("-f", str(ALL_OPTIONS))}


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_every_rendered_object_passes_a_server_side_dry_run(
        helm: Helm, kubectl: Kubectl, namespace: str, rendering: str) -> None:
    docs = helm.template("-n", namespace, "--include-crds", *RENDERINGS[rendering])
    result = kubectl.run("apply", "--server-side", "--dry-run=server", "--force-conflicts",
                         f"--field-manager={FIELD_MANAGER}", "-f", "-",
                         stdin="\n---\n".join(json.dumps(doc) for doc in docs))
    accepted = result.stdout.count("serverside-applied (server dry run)")
    assert accepted == len(docs), result.stdout
    # The namespace enforces `restricted`: the API server warns about a violating pod template.
    assert "PodSecurity" not in result.stderr, result.stderr
    kinds = {doc["kind"] for doc in docs}
    assert {"Deployment", "Service", "NetworkPolicy", "DesktopProfile",
            "CustomResourceDefinition"} <= kinds
    if rendering == "every-option":
        assert {"Ingress", "PriorityClass", "ClusterRole"} <= kinds and "Role" not in kinds


def python_profiles(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    image = values.get("desktops", {}).get("image", {})
    made = profiles.default_profiles(registry=image.get("registry", profiles.DEFAULT_REGISTRY),
                                     tag=image.get("tag") or profiles.DEFAULT_TAG,
                                     pull_policy=image.get("pullPolicy", "IfNotPresent"))
    return {profile["metadata"]["name"]: profile for profile in made}


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_chart_profiles_equal_python_default_profiles(helm: Helm, rendering: str) -> None:
    values = yaml.safe_load(ALL_OPTIONS.read_text()) if rendering == "every-option" else {}
    charted = {doc["metadata"]["name"]: doc for doc in helm.template(
        "--show-only", "templates/desktopprofiles.yaml", *RENDERINGS[rendering])}
    expected = python_profiles(values)
    assert list(charted) == list(expected) == list(profiles.DEFAULT_PROFILES)
    priority = values.get("desktops", {}).get("priorityClass", {})
    for name, profile in expected.items():
        chart_profile = charted[name]
        spec = dict(chart_profile["spec"])
        if priority.get("enabled"):  # the one field the chart adds: its own PriorityClass
            assert spec.pop("priorityClassName") == f"{values['fullnameOverride']}-desktop"
        assert spec == profile["spec"], name
        assert chart_profile["apiVersion"] == profile["apiVersion"] == labels.API_VERSION
        assert chart_profile["kind"] == profile["kind"]
        chart_labels = chart_profile["metadata"]["labels"]
        assert profile["metadata"]["labels"].items() <= chart_labels.items()
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert app_version == profiles.DEFAULT_TAG, "the chart's default desktop tag is appVersion"


def container(docs: list[dict[str, Any]], component: str) -> dict[str, Any]:
    deployment = next(doc for doc in docs if doc["kind"] == "Deployment" and doc["metadata"][
        "labels"]["app.kubernetes.io/component"] == component)
    found: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return found


def port_of(spec: dict[str, Any], name: str) -> int:
    return int(next(p["containerPort"] for p in spec["ports"] if p["name"] == name))


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_container_args_are_what_the_arcdesk_cli_accepts(
        helm: Helm, monkeypatch: pytest.MonkeyPatch, rendering: str) -> None:
    """The chart's args go through the real CLI; only the final blocking call is replaced."""
    docs = helm.template("-n", "served", *RENDERINGS[rendering])
    cluster_wide = rendering == "every-option"
    operator, gateway = container(docs, "operator"), container(docs, "gateway")
    started: list[Any] = []

    async def serve(options: Any) -> None:
        started.append(options)

    monkeypatch.setattr(runner, "run", lambda options, verbose=False: started.append(options))
    monkeypatch.setattr(gateway_cmds, "serve_forever", serve)
    for spec in (operator, gateway):
        assert spec["args"][0] == "arcdesk", "the image's entrypoint is tini; args run arcdesk"
        result = CliRunner().invoke(arcdesk_cli, spec["args"][1:])
        assert result.exit_code == 0, f"{spec['args']}: {result.output}"
    ran, served = started
    assert (ran.all_namespaces, ran.namespaces) == (
        (True, ()) if cluster_wide else (False, ("served",)))
    assert ran.probe_port == port_of(operator, "probe")
    assert operator["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "probe"}
    assert (ran.workers, ran.api_concurrency) == ((16, 32) if cluster_wide else (8, 16))
    assert served.namespace == (None if cluster_wide else "served")
    assert (served.host, served.port) == ("0.0.0.0", port_of(gateway, "http"))
    assert len(served.config.trusted_proxies) == (2 if cluster_wide else 0)


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
    assert operator["spec"]["strategy"]["type"] == "Recreate"
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


def gateway_health(port: int, process: subprocess.Popen[bytes]) -> dict[str, Any] | None:
    if process.poll() is not None:
        raise AssertionError("the gateway exited")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            health: dict[str, Any] = json.load(response)
    except OSError:
        return None
    return health if health["seats"] == 2 and health["credentials"] == 2 else None


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
    operator = OperatorProcess(
        service_account_kubeconfig(kubectl, release, "operator", tmp_path / "operator.kubeconfig"),
        [release.courses], tmp_path / "operator.log")
    port, gateway_log = _free_port(), tmp_path / "gateway.log"
    gateway_config = service_account_kubeconfig(kubectl, release, "gateway",
                                                tmp_path / "gateway.kubeconfig")
    with gateway_log.open("wb") as out:
        gateway = subprocess.Popen(
            [str(ARCDESK), "gateway", "run", "--port", str(port), "--namespace",
             release.courses, "--kubeconfig", str(gateway_config)],
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
        forbidden = [line for line in operator.log.read_text().splitlines()
                     if "Forbidden" in line or "403" in line]
        assert forbidden == [], forbidden
        health = wait_for("the gateway indexing both seats and their Secrets",
                          lambda: gateway_health(port, gateway), timeout=30)
        assert health["ok"] and health["courses"] == 1, health
        assert "403" not in gateway_log.read_text(), gateway_log.read_text()
    finally:
        operator.stop()
        gateway.terminate()
        gateway.wait(timeout=15)
        print(f"--- operator log ---\n{operator.log_tail()}\n--- gateway log ---\n"
              f"{gateway_log.read_text(errors='replace')[-3000:]}")
