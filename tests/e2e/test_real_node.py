"""The real node runs real pods: a container serves HTTP at its pod IP, reachable from the
host; logs and exec go through the kubelet; workloads without the toleration stay off it."""

from __future__ import annotations

import ipaddress
import urllib.request

from devcluster.kit import Kubectl, wait_for
from tests.e2e.conftest import NODE_NAME, ON_REAL_NODE, RESTRICTED_CONTAINER

SERVE = ("/bin/busybox mkdir -p /tmp/www && echo \"hello from $POD_NAME\" > /tmp/www/index.html"
         " && exec /bin/busybox httpd -f -v -p 8080 -h /tmp/www")


def web_pod(name: str, image: str, pull_policy: str = "Never") -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            **ON_REAL_NODE, "automountServiceAccountToken": False,
            "securityContext": {"runAsUser": 65534, "runAsGroup": 65534},
            "containers": [{
                "name": "web", "image": image, "imagePullPolicy": pull_policy,
                "command": ["/bin/busybox", "sh", "-c", SERVE],
                "env": [{"name": "POD_NAME", "valueFrom": {
                    "fieldRef": {"fieldPath": "metadata.name"}}}],
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080},
                                   "periodSeconds": 1},
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                "securityContext": RESTRICTED_CONTAINER,
            }],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def ready_pod(kubectl: Kubectl, namespace: str, name: str) -> dict:
    def probe() -> dict | None:
        pod = kubectl.get_json("pod", name, "-n", namespace)
        conditions = pod["status"].get("conditions", [])
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        return pod if ready else None
    return wait_for(f"pod {namespace}/{name} Ready on the real node", probe, timeout=60)


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_pod_serves_http_at_its_pod_ip_from_the_host(
        kubectl: Kubectl, real_node: dict, busybox_image: str, namespace: str) -> None:
    kubectl.apply(web_pod("web", busybox_image), "-n", namespace)
    pod = ready_pod(kubectl, namespace, "web")
    assert pod["spec"]["nodeName"] == NODE_NAME
    node_ip = next(a["address"] for a in real_node["status"]["addresses"]
                   if a["type"] == "InternalIP")
    pod_ip = pod["status"]["podIP"]
    assert ipaddress.ip_address(pod_ip) in ipaddress.ip_network(f"{node_ip}/24", strict=False)
    assert http_get(f"http://{pod_ip}:8080/") == "hello from web\n"


def test_logs_and_exec_reach_the_kubelet(
        kubectl: Kubectl, real_node: dict, busybox_image: str, namespace: str) -> None:
    kubectl.apply(web_pod("talk", busybox_image), "-n", namespace)
    pod_ip = ready_pod(kubectl, namespace, "talk")["status"]["podIP"]
    http_get(f"http://{pod_ip}:8080/index.html")
    logs = kubectl.run("logs", "talk", "-n", namespace).stdout
    assert "GET /index.html" in logs or "response:200" in logs, logs
    identity = kubectl.run("exec", "talk", "-n", namespace, "--",
                           "/bin/busybox", "id", "-u").stdout
    assert identity.strip() == "65534"


def test_pods_without_the_toleration_stay_off_the_real_node(
        kubectl: Kubectl, real_node: dict, namespace: str) -> None:
    kubectl.apply({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "fake"},
        "spec": {"replicas": 12, "selector": {"matchLabels": {"app": "fake"}},
                 "template": {"metadata": {"labels": {"app": "fake"}}, "spec": {
                     "automountServiceAccountToken": False,
                     "containers": [{"name": "c", "image": "localhost/none:1",
                                     "securityContext": RESTRICTED_CONTAINER | {
                                         "runAsUser": 1000}}]}}},
    }, "-n", namespace)

    def scheduled() -> list[str] | None:
        pods = kubectl.get_json("pods", "-n", namespace, "-l", "app=fake")["items"]
        nodes = [pod["spec"].get("nodeName") for pod in pods]
        return nodes if len(nodes) == 12 and all(nodes) else None
    nodes = wait_for("12 pods scheduled", scheduled, timeout=60)
    assert NODE_NAME not in nodes
