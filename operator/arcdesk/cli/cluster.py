"""The CLI's connection to the API server: the user's kubeconfig, like kubectl.

Every failure becomes a :class:`ClusterError` whose message is one line a person can act
on (cluster unreachable, CRDs missing, not found, refused by validation, not allowed).
Request and response bodies are never part of a message: they may hold tokens.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from arcdesk import labels

TIMEOUT = (5.0, 30.0)  # connect, read: an unreachable cluster fails fast
MANAGER = "arcdesk-cli"
CRDS_MISSING = ("the arcdesk CRDs are not installed in this cluster: install them with "
                "`kubectl apply --server-side -f charts/arcdesk/crds/` or `helm install "
                "arcdesk charts/arcdesk`")
ALL_NAMESPACES = "*"


class ClusterError(Exception):
    """A failure talking to the cluster; ``str()`` is the one line to show."""


@dataclass(frozen=True)
class Target:
    """Where to talk to: the kubectl-style global options."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class Kind:
    prefix: str  # api/v1 or apis/<group>/<version>
    plural: str
    name: str  # what a person calls one, e.g. "course"
    namespaced: bool = True
    command: str = ""  # the `arcdesk` noun that lists them, if any

    @property
    def resource(self) -> str:
        """``plural.group`` as RBAC and kubectl spell it."""
        group = self.prefix.split("/")[1] if self.prefix.startswith("apis/") else ""
        return f"{self.plural}.{group}" if group else self.plural

    @property
    def ours(self) -> bool:
        return self.prefix == f"apis/{labels.API_VERSION}"


_OURS = f"apis/{labels.API_VERSION}"
COURSE = Kind(_OURS, "courses", "course", command="course")
SEAT = Kind(_OURS, "seats", "seat")
PROFILE = Kind(_OURS, "desktopprofiles", "desktop profile", namespaced=False,
               command="profile")
SECRET = Kind("api/v1", "secrets", "secret")
EVENT = Kind("api/v1", "events", "event")
NODE = Kind("api/v1", "nodes", "node", namespaced=False)
POD = Kind("api/v1", "pods", "pod")
CLAIM = Kind("api/v1", "persistentvolumeclaims", "home volume")


@dataclass(frozen=True)
class Call:
    """What a request was for, to word its failure."""

    verb: str
    kind: Kind
    namespace: str | None
    name: str | None = None


def kubeconfig_path(given: Path | None) -> str:
    """--kubeconfig, else $KUBECONFIG (a ':'-separated list is merged), else ~/.kube/config."""
    if given is not None:
        return str(given)
    return os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")


def connect(target: Target) -> Cluster:
    """A :class:`Cluster` for ``target``; ClusterError when the kubeconfig cannot be used."""
    path = kubeconfig_path(target.kubeconfig)
    if not any(Path(p).expanduser().is_file() for p in path.split(os.pathsep) if p):
        raise ClusterError(f"no kubeconfig at {path}: pass --kubeconfig FILE or set KUBECONFIG")
    try:
        contexts, current = config.list_kube_config_contexts(path)  # type: ignore[no-untyped-call]
        chosen = _context(contexts, current, target.context)
        configuration = client.Configuration()
        config.load_kube_config(  # type: ignore[no-untyped-call]
            path, chosen["name"], configuration, persist_config=False)
    except ConfigException as error:
        raise ClusterError(f"cannot use kubeconfig {path}: {_first_line(error)}") from None
    configuration.retries = 0
    namespace = target.namespace or chosen.get("context", {}).get("namespace") or "default"
    return Cluster(client.ApiClient(configuration), namespace, configuration.host)


def _context(contexts: list[dict[str, Any]], current: dict[str, Any] | None,
             wanted: str | None) -> dict[str, Any]:
    if wanted is None:
        if not current:
            raise ClusterError("the kubeconfig has no current context: pass --context NAME")
        return current
    for context in contexts:
        if context.get("name") == wanted:
            return context
    names = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
    raise ClusterError(f"no context {wanted!r} in the kubeconfig (contexts: {names})")


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class Cluster:
    """JSON requests to one API server as the kubeconfig's user."""

    def __init__(self, api: client.ApiClient, namespace: str, server: str) -> None:
        self.api = api
        self.namespace = namespace
        self.server = server

    def path(self, kind: Kind, namespace: str | None, name: str | None = None,
             subresource: str | None = None) -> str:
        parts = [kind.prefix]
        if kind.namespaced and namespace and namespace != ALL_NAMESPACES:
            parts += ["namespaces", quote(namespace, safe="")]
        parts.append(kind.plural)
        parts += [quote(name, safe="")] if name else []
        parts += [subresource] if subresource else []
        return "/" + "/".join(parts)

    def request(self, method: str, path: str, call: Call, body: Any = None,
                query: Mapping[str, str] | None = None,
                content_type: str = "application/json") -> Any:
        """Send one request; the decoded JSON answer, or ClusterError."""
        url = self.server + path + (f"?{urlencode(query)}" if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        for auth in self.api.configuration.auth_settings().values():
            headers[auth["key"]] = auth["value"]
        try:
            response = self.api.rest_client.request(  # type: ignore[no-untyped-call]
                method, url, headers=headers, body=body, _request_timeout=TIMEOUT)
            raw = response.read()
        except urllib3.exceptions.HTTPError as error:
            raise ClusterError(unreachable(self.server, error)) from None
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        if response.status >= 400:
            raise ClusterError(explain(call, response.status, text, self))
        return json.loads(text) if text else {}

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> dict[str, Any]:
        ns = namespace or self.namespace
        found: dict[str, Any] = self.request(
            "GET", self.path(kind, ns, name), Call("get", kind, ns, name))
        return found

    def list(self, kind: Kind, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict[str, Any]]:
        ns = namespace or self.namespace
        query = {k: v for k, v in (("labelSelector", selector),
                                   ("fieldSelector", field_selector)) if v}
        answer = self.request("GET", self.path(kind, ns), Call("list", kind, ns), query=query)
        items: list[dict[str, Any]] = answer.get("items") or []
        return items

    def create(self, kind: Kind, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
        name = obj.get("metadata", {}).get("name")
        created: dict[str, Any] = self.request(
            "POST", self.path(kind, namespace), Call("create", kind, namespace, name), obj)
        return created

    def apply(self, kind: Kind, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
        """Server-side apply as ``arcdesk-cli``: the cluster ends up matching the file."""
        name = obj["metadata"]["name"]
        applied: dict[str, Any] = self.request(
            "PATCH", self.path(kind, namespace, name), Call("apply", kind, namespace, name),
            obj, query={"fieldManager": MANAGER, "force": "true"},
            content_type="application/apply-patch+yaml")
        return applied

    def patch(self, kind: Kind, name: str, patch: dict[str, Any], namespace: str | None = None,
              subresource: str | None = None) -> dict[str, Any]:
        """JSON merge patch of ``name`` (or of its ``subresource``)."""
        ns = namespace or self.namespace
        patched: dict[str, Any] = self.request(
            "PATCH", self.path(kind, ns, name, subresource), Call("patch", kind, ns, name),
            patch, query={"fieldManager": MANAGER},
            content_type="application/merge-patch+json")
        return patched

    def delete(self, kind: Kind, name: str, namespace: str | None = None) -> None:
        ns = namespace or self.namespace
        self.request("DELETE", self.path(kind, ns, name), Call("delete", kind, ns, name),
                     {"propagationPolicy": "Background"})


def unreachable(server: str, error: urllib3.exceptions.HTTPError) -> str:
    """One line for a request that got no HTTP answer."""
    reason = getattr(error, "reason", None) or error
    text = str(reason)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(reason, urllib3.exceptions.SSLError):
        why = "its TLS certificate is not trusted by the kubeconfig's CA"
    elif "refused" in text.lower():
        why = "connection refused"
    elif isinstance(reason, urllib3.exceptions.TimeoutError) or "timed out" in text:
        why = "timed out"
    elif "resolve" in text.lower() or "Name or service not known" in text:
        why = "host name not found"
    else:
        why = type(reason).__name__
    return (f"cannot reach the Kubernetes API server at {server} ({why}): is the cluster "
            "running, and are --kubeconfig/--context right?")


_USER = re.compile(r'User "([^"]*)"')


def explain(call: Call, status: int, body: str, cluster: Cluster | None = None) -> str:
    """One line for an error answer of the API server."""
    answer = _status_object(body)
    message = str(answer.get("message") or body.strip() or f"HTTP {status}").splitlines()[0]
    details = answer.get("details") or {}
    where = f" in namespace {call.namespace}" if call.kind.namespaced and call.namespace \
        and call.namespace != ALL_NAMESPACES else ""
    if status == 401:
        return ("the API server did not accept your credentials (401 Unauthorized): "
                "check the kubeconfig's user, or log in again")
    if status == 403:
        found = _USER.search(message)
        who = f"user {found.group(1)!r}" if found else "you"
        return (f"not allowed: {who} cannot {call.verb} {call.kind.resource}{where} "
                "(ask a cluster admin for access)")
    if status == 404:
        return _not_found(call, details, where, cluster)
    if status == 409 and answer.get("reason") == "AlreadyExists":
        return (f"{call.kind.name} {call.name} already exists{where}: use "
                f"`arcdesk {call.kind.command or call.kind.name} apply -f FILE` to change it")
    if status == 422:
        return _invalid(call, details, message)
    return f"the API server answered {status} to {call.verb} {call.kind.resource}: {message}"


def _status_object(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _not_found(call: Call, details: Mapping[str, Any], where: str,
               cluster: Cluster | None) -> str:
    if call.kind.ours and (not details.get("name") or _group_missing(cluster)):
        return CRDS_MISSING
    name = details.get("name") or call.name
    hint = f" (see `arcdesk {call.kind.command} list`)" if call.kind.command else ""
    return f"{call.kind.name} {name} not found{where}{hint}"


def _group_missing(cluster: Cluster | None) -> bool:
    """Whether arcdesk's API group is unknown to the server (a named 404 may mean that)."""
    if cluster is None:
        return False
    try:
        cluster.request("GET", f"/{_OURS}", Call("discover", COURSE, None, labels.API_VERSION))
    except ClusterError as error:
        return str(error) == CRDS_MISSING
    return False


def _invalid(call: Call, details: Mapping[str, Any], message: str) -> str:
    causes = [c for c in details.get("causes") or [] if isinstance(c, dict)]
    problems = "; ".join(
        f"{c['field']}: {c.get('message', '')}" if c.get("field") else str(c.get("message", ""))
        for c in causes) or message
    return f"the API server refused {call.kind.name} {call.name}: {problems}"
