"""What the control plane and the real node both need: the error a person can act on,
progress lines, waiting, and readiness of the API server and etcd. Stdlib only."""

from __future__ import annotations

import ssl
from collections.abc import Callable

from devcluster import kit
from devcluster.components import Layout
from devcluster.kit import Kubectl


class DevclusterError(RuntimeError):
    """A failure the user can act on; the message says what to do."""


def say(message: str) -> None:
    print(f"devcluster: {message}", flush=True)


def wait_until(what: str, check: Callable[[], bool], timeout: float, log: str = "") -> None:
    hint = f"; see {log}" if log else ""
    kit.wait_for(what + hint, check, timeout, interval=0.2, error=DevclusterError)


def admin_tls(layout: Layout) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
    context.load_cert_chain(layout.pki / "admin.crt", layout.pki / "admin.key")
    return context


def apiserver_ready(layout: Layout) -> bool:
    if not (layout.pki / "admin.crt").exists():
        return False
    return kit.url_ok(f"{layout.server_url}/readyz", admin_tls(layout))


def etcd_healthy(layout: Layout) -> bool:
    return kit.url_ok(f"http://127.0.0.1:{layout.etcd_client_port}/health")


def kubectl(layout: Layout) -> Kubectl:
    return Kubectl(layout.binary("kubectl"), layout.kubeconfig)
