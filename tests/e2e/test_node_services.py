"""Services on the real node, as on any cluster: a pod reaches the API server through the
`kubernetes` Service with its own token, a Service's ClusterIP leads to its pods, and a
NodePort answers on the node IP (only there) from the host."""

from __future__ import annotations

import socket

from devcluster.kit import Kubectl, wait_for
from tests.e2e.conftest import ON_REAL_NODE, RESTRICTED_CONTAINER
from tests.e2e.test_real_node import http_get, ready_pod, web_pod

API_CALL = (
    "/bin/busybox mkdir -p /tmp/bin && /bin/busybox --install -s /tmp/bin && export PATH=/tmp/bin"
    " && token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)"
    " && wget -q -O - --header \"Authorization: Bearer $token\""
    " https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api; echo; echo done;"
    " exec sleep 3600")


def api_client_pod(image: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api-client"},
        "spec": {
            **ON_REAL_NODE, "automountServiceAccountToken": True,
            "securityContext": {"runAsUser": 65534, "runAsGroup": 65534},
            "containers": [{
                "name": "client", "image": image, "imagePullPolicy": "Never",
                "command": ["/bin/busybox", "sh", "-c", API_CALL],
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                "securityContext": RESTRICTED_CONTAINER,
            }],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def labelled_web_pod(name: str, image: str) -> dict:
    pod = web_pod(name, image)
    pod["metadata"]["labels"] = {"app": "web"}
    return pod


def web_service(service_type: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": service_type, "selector": {"app": "web"},
                     "ports": [{"port": 80, "targetPort": 8080}]}}


def refused(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, port)) != 0


def test_a_pod_calls_the_api_server_through_the_kubernetes_service(
        kubectl: Kubectl, busybox_image: str, namespace: str) -> None:
    kubectl.apply(api_client_pod(busybox_image), "-n", namespace)

    def answer() -> str | None:
        logs = kubectl.run("logs", "api-client", "-n", namespace, check=False).stdout
        return logs if "done" in logs else None
    logs = wait_for("the pod's call to the API server", answer, timeout=60)
    assert '"kind": "APIVersions"' in logs.replace('":"', '": "'), logs


def test_a_service_leads_to_its_pod_by_cluster_ip_and_node_port(
        kubectl: Kubectl, real_node: dict, busybox_image: str, namespace: str) -> None:
    kubectl.apply(labelled_web_pod("web", busybox_image), "-n", namespace)
    kubectl.apply(web_pod("caller", busybox_image), "-n", namespace)
    kubectl.apply(web_service("NodePort"), "-n", namespace)
    ready_pod(kubectl, namespace, "web")
    ready_pod(kubectl, namespace, "caller")
    service = kubectl.get_json("service", "web", "-n", namespace)
    cluster_ip, node_port = service["spec"]["clusterIP"], service["spec"]["ports"][0]["nodePort"]
    node_ip = next(a["address"] for a in real_node["status"]["addresses"]
                   if a["type"] == "InternalIP")

    def through_cluster_ip() -> str | None:
        request = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc {cluster_ip} 80"
        got = kubectl.run("exec", "caller", "-n", namespace, "--", "/bin/busybox", "sh", "-c",
                          request, check=False)
        return got.stdout if "hello from" in got.stdout else None
    assert "hello from web" in wait_for("the ClusterIP from a pod", through_cluster_ip, 30)

    def through_node_port() -> str | None:
        try:
            return http_get(f"http://{node_ip}:{node_port}/")
        except OSError:
            return None
    assert "hello from web" in wait_for("the NodePort from the host", through_node_port, 30)
    assert refused("127.0.0.1", node_port), "NodePorts must answer on the node IP only"
