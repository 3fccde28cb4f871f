"""Every rendered desktop Pod is admissible under Pod Security `restricted` (and more).

The checker below restates the `restricted` profile of Kubernetes' pod-security-admission
(v1.34) for the fields our Pods use, so a template change that would be refused by a
restricted namespace fails here, long before the cluster tier runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from arcdesk.api import labels
from arcdesk.api.model import parse_course
from tests.unit.builders import (
    default_profile,
    every_option_course,
    every_option_profile,
    example,
    pods_of,
)

RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                           "persistentVolumeClaim", "projected", "secret"}


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """Why `restricted` would refuse ``pod`` (empty when it is admitted)."""
    spec, out = pod["spec"], []
    for host_field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host_field):
            out.append(f"{host_field} is set")
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            out.append(f"volume {volume['name']} uses {sorted(kinds - RESTRICTED_VOLUME_TYPES)}")
    pod_ctx = spec.get("securityContext", {})
    for container in spec.get("initContainers", []) + spec["containers"]:
        out += [f"{container['name']}: {v}" for v in _container_violations(container, pod_ctx)]
    return out


def _container_violations(container: dict[str, Any], pod_ctx: dict[str, Any]) -> list[str]:
    ctx, out = container.get("securityContext", {}), []
    if ctx.get("privileged"):
        out.append("privileged")
    if ctx.get("allowPrivilegeEscalation") is not False:
        out.append("allowPrivilegeEscalation must be false")
    caps = ctx.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        out.append("capabilities must drop ALL")
    if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
        out.append(f"adds capabilities {caps['add']}")
    if not ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")):
        out.append("runAsNonRoot must be true")
    if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
        out.append("runAsUser 0")
    seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {})).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        out.append(f"seccompProfile must be RuntimeDefault or Localhost, not {seccomp}")
    if any(p.get("hostPort") for p in container.get("ports", [])):
        out.append("hostPort")
    return out


def test_the_checker_refuses_what_restricted_refuses() -> None:
    pod = pods_of(parse_course(example("course-basic")), default_profile("bioimage"))[0]
    pod["spec"]["hostNetwork"] = True
    pod["spec"]["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run"}})
    container = pod["spec"]["containers"][0]
    container["securityContext"] = {"capabilities": {"add": ["SYS_ADMIN"]}}
    del pod["spec"]["securityContext"]["seccompProfile"]
    assert len(restricted_violations(pod)) == 6, restricted_violations(pod)


def _pods() -> dict[str, list[dict[str, Any]]]:
    found = {name: pods_of(parse_course(example(name)), default_profile(profile))
             for name, profile in (("course-basic", "bioimage"), ("course-roster", "arc"),
                                   ("course-scheduled", "bioimage"))}
    found["every-option"] = pods_of(every_option_course(), every_option_profile())
    return found


PODS = _pods()


@pytest.mark.parametrize("source", sorted(PODS))
def test_every_pod_is_admitted_under_restricted(source: str) -> None:
    for pod in PODS[source]:
        assert restricted_violations(pod) == [], pod["metadata"]["name"]


@pytest.mark.parametrize("source", sorted(PODS))
def test_every_pod_keeps_the_trainee_away_from_the_api_and_other_secrets(source: str) -> None:
    for pod in PODS[source]:
        spec = pod["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert spec.get("enableServiceLinks") is False, "service env vars leak cluster layout"
        assert spec["securityContext"]["runAsUser"] == labels.DESKTOP_UID


def _port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


def _probe_port(container: dict[str, Any], probe: dict[str, Any]) -> int:
    action = probe.get("httpGet") or probe.get("tcpSocket") or {}
    return _port_number(container, action["port"])


@pytest.mark.parametrize("source", sorted(PODS))
def test_desktop_is_ready_only_when_the_agent_answers_and_is_restarted_only_after_startup(
        source: str) -> None:
    # The agent (8080) gates readiness from the start; it answers healthy only once Xvnc and
    # websockify/noVNC listen. Liveness waits out a slow start before it may restart.
    for pod in PODS[source]:
        container = pod["spec"]["containers"][0]
        assert _probe_port(container, container["readinessProbe"]) == labels.AGENT_PORT
        assert "startupProbe" not in container
        liveness = container["livenessProbe"]
        assert _probe_port(container, liveness) == labels.AGENT_PORT
        grace = liveness["initialDelaySeconds"] + liveness["periodSeconds"] * liveness[
            "failureThreshold"]
        assert grace >= 180


@pytest.mark.parametrize("source", sorted(PODS))
def test_home_tmp_and_secret_are_mounted_as_intended(source: str) -> None:
    for pod in PODS[source]:
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
        home = volumes[mounts[labels.HOME_DIR]["name"]]
        assert home["persistentVolumeClaim"]["claimName"] == pod["metadata"]["name"] + "-home"
        assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
        secret_mount = mounts[labels.SECRETS_DIR]
        assert secret_mount["readOnly"] is True
        secret = volumes[secret_mount["name"]]["secret"]
        assert secret["secretName"] == pod["metadata"]["name"]
        assert secret["defaultMode"] & 0o007 == 0, "secret files must not be world-readable"
