"""The Helm chart charts/arcdesk, rendered: lint, strict values schema, server-side dry runs of
every object, default DesktopProfiles equal to Python's, container args the CLI accepts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from arcdesk.api import labels
from arcdesk.build import profiles
from arcdesk.cli import gateway_cmds
from arcdesk.cli.main import app as arcdesk_cli
from arcdesk.engine import runner
from devcluster.kit import Kubectl
from tests.cluster.chart_helpers import (
    ALL_OPTIONS,
    CHART,
    FIELD_MANAGER,
    SCHEMA,
    VALUES,
    Helm,
    container,
)
from tests.cluster.chart_helpers import helm as helm
from tests.cluster.operator_fixture import profile_fixture as profile_fixture

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
    ({"gateway": {"metricsPort": 8000}}, "gateway.metricsPort must differ from gateway.port"),
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
        assert {"Ingress", "PriorityClass", "ClusterRole"} <= kinds
        roles = [doc["metadata"]["name"] for doc in docs if doc["kind"] == "Role"]
        assert roles == ["all-opts-operator-own"], "cluster-wide: only the release namespace Role"


def python_profiles(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    image = values.get("desktops", {}).get("image", {})
    made = profiles.default_profiles(registry=image.get("registry", profiles.DEFAULT_REGISTRY),
                                     tag=image.get("tag") or profiles.DEFAULT_TAG,
                                     pull_policy=image.get("pullPolicy", "IfNotPresent"),
                                     digests=image.get("digests"))
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
    assert ran.lease is not None and (ran.lease.namespace, ran.lease.name) == (
        "served", f"{'all-opts' if cluster_wide else 'rel-arcdesk'}-operator")
    assert served.namespace == (None if cluster_wide else "served")
    assert (served.host, served.port) == ("0.0.0.0", port_of(gateway, "http"))
    assert (served.metrics_host, served.metrics_port) == ("0.0.0.0", port_of(gateway, "metrics"))
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert len(served.config.trusted_proxies) == (2 if cluster_wide else 0)
    assert served.config.plain_http == cluster_wide


def gateway_objects(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in docs if doc["kind"] in ("Service", "NetworkPolicy")
            and doc["metadata"]["name"].endswith("-gateway")}


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_gateway_metrics_have_a_port_of_their_own(helm: Helm, rendering: str) -> None:
    """/metrics: the container port `metrics`, scraped from metricsFrom, not on the Service."""
    docs = helm.template(*RENDERINGS[rendering])
    gateway, found = container(docs, "gateway"), gateway_objects(docs)
    assert port_of(gateway, "metrics") == (9091 if rendering == "every-option" else 9090)
    assert [p["targetPort"] for p in found["Service"]["spec"]["ports"]] == ["http"]
    rules = found["NetworkPolicy"]["spec"]["ingress"]
    assert [[p["port"] for p in rule["ports"]] for rule in rules] == [["http"], ["metrics"]]
    labels = ({"kubernetes.io/metadata.name": "monitoring"} if rendering == "every-option"
              else {})
    assert rules[1]["from"] == [{"namespaceSelector": {"matchLabels": labels}}]


def test_gateway_metrics_port_zero_opens_no_metrics_port(helm: Helm) -> None:
    docs = helm.template("--set", "gateway.metricsPort=0")
    gateway = container(docs, "gateway")
    assert [p["name"] for p in gateway["ports"]] == ["http"]
    assert gateway["args"][gateway["args"].index("--metrics-port") + 1] == "0"
    rules = gateway_objects(docs)["NetworkPolicy"]["spec"]["ingress"]
    assert [[p["port"] for p in rule["ports"]] for rule in rules] == [["http"]]
