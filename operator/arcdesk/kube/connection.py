"""The one credential policy, kubectl's: ``--kubeconfig``, else ``$KUBECONFIG`` (a
':'-separated list, merged as kubectl merges it), else ``~/.kube/config``, else the pod's
service account. The official ``kubernetes`` loaders read the files, so certificates,
tokens, exec plugins and in-cluster token refresh behave as they do for kubectl.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from arcdesk.kube.errors import ApiError

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class Connection:
    server: str
    ssl_context: ssl.SSLContext | bool  # False: plain http, or verification turned off
    authorization: Callable[[], str | None]  # re-read per request: tokens rotate
    namespace: str  # the context's namespace, the pod's own, or "default"


def kubeconfig_path(given: Path | str | None = None) -> str | None:
    """The kubeconfig file(s) to read, or None to use the pod's service account."""
    if given is not None:
        return str(given)
    listed = os.environ.get("KUBECONFIG")
    if listed:
        return listed
    default = Path.home() / ".kube" / "config"
    if default.is_file() or not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return str(default)
    return None


def connect(kubeconfig: Path | str | None = None, context: str | None = None) -> Connection:
    """Where and as whom to talk; ApiError (one line) when the configuration cannot be used."""
    path = kubeconfig_path(kubeconfig)
    cfg = client.Configuration()
    if path is None:
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        namespace = _own_namespace()
    else:
        namespace = _load_kubeconfig(path, context, cfg)
    return Connection(str(cfg.host).rstrip("/"), _ssl_context(cfg),
                      lambda: cfg.get_api_key_with_prefix("BearerToken", alias="authorization"),
                      namespace)


def _load_kubeconfig(path: str, wanted: str | None, cfg: Any) -> str:
    if not any(Path(p).expanduser().is_file() for p in path.split(os.pathsep) if p):
        raise ApiError.unconfigured(
            f"no kubeconfig at {path}: pass --kubeconfig FILE or set KUBECONFIG")
    try:
        contexts, current = config.list_kube_config_contexts(path)  # type: ignore[no-untyped-call]
        chosen = _context(contexts, current, wanted)
        config.load_kube_config(  # type: ignore[no-untyped-call]
            path, chosen["name"], cfg, persist_config=False)
    except ConfigException as error:
        raise ApiError.unconfigured(
            f"cannot use kubeconfig {path}: {_first_line(error)}") from None
    return str(chosen.get("context", {}).get("namespace") or "default")


def _context(contexts: list[dict[str, Any]], current: dict[str, Any] | None,
             wanted: str | None) -> dict[str, Any]:
    if wanted is None:
        if not current:
            raise ApiError.unconfigured(
                "the kubeconfig has no current context: pass --context NAME")
        return current
    for context in contexts:
        if context.get("name") == wanted:
            return context
    names = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
    raise ApiError.unconfigured(f"no context {wanted!r} in the kubeconfig (contexts: {names})")


def _own_namespace() -> str:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"


def _ssl_context(cfg: Any) -> ssl.SSLContext | bool:
    if not str(cfg.host).startswith("https") or not cfg.verify_ssl:
        return False
    context = ssl.create_default_context(cafile=cfg.ssl_ca_cert or None)
    if cfg.cert_file and cfg.key_file:
        context.load_cert_chain(cfg.cert_file, cfg.key_file)
    return context


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
