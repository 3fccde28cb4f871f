"""The one error type of the API client, and the one line a person can act on for each
failure (cluster unreachable, CRDs missing, not found, refused by validation, not allowed).

Request and response bodies are never part of a message: they may hold tokens. Pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arcdesk.kube.kinds import ALL_NAMESPACES, Kind

CRDS_MISSING = ("the arcdesk CRDs are not installed in this cluster: install them with "
                "`kubectl apply --server-side -f charts/arcdesk/crds/` or `helm install "
                "arcdesk charts/arcdesk`")
NO_ANSWER = 0  # the status of a request that got no HTTP answer


@dataclass(frozen=True)
class Call:
    """What a request was for, to word its failure."""

    verb: str
    kind: Kind
    namespace: str | None
    name: str | None = None


class ApiError(Exception):
    """A failed call: ``str()`` is the one line to show; ``status`` is the HTTP status
    (``NO_ANSWER`` when the server was not reached or not configured), ``reason`` and
    ``message`` the API server's Status fields."""

    def __init__(self, status: int, reason: str, message: str, explanation: str = "",
                 details: Mapping[str, Any] | None = None, call: Call | None = None) -> None:
        super().__init__(explanation or f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message
        self.details = dict(details or {})
        self.call = call

    @classmethod
    def from_answer(cls, call: Call, status: int, body: str) -> ApiError:
        answer = status_object(body)
        return cls(status, str(answer.get("reason", "")),
                   str(answer.get("message") or body[:300]), explain(call, status, body),
                   answer.get("details") if isinstance(answer.get("details"), dict) else None,
                   call)

    @classmethod
    def unconfigured(cls, explanation: str) -> ApiError:
        return cls(NO_ANSWER, "NoConfiguration", explanation, explanation)

    @property
    def transient(self) -> bool:
        """No answer, overload or an internal error: worth retrying, not worth reporting."""
        return self.status == NO_ANSWER or self.status >= 500 or self.status == 429

    @property
    def quota_exceeded(self) -> bool:
        return self.status == 403 and "exceeded quota" in self.message

    @property
    def crds_missing(self) -> bool:
        return str(self) == CRDS_MISSING


def unreachable(server: str, why: str) -> str:
    """One line for a request that got no HTTP answer, ``why`` in a few words."""
    return (f"cannot reach the Kubernetes API server at {server} ({why}): is the cluster "
            "running, and are --kubeconfig/--context right?")


_USER = re.compile(r'User "([^"]*)"')


def explain(call: Call, status: int, body: str) -> str:
    """One line for an error answer of the API server."""
    answer = status_object(body)
    message = str(answer.get("message") or body.strip() or f"HTTP {status}").splitlines()[0]
    details = answer.get("details") or {}
    where = f" in namespace {call.namespace}" if call.kind.namespaced and call.namespace \
        and call.namespace != ALL_NAMESPACES else ""
    if status == 401:
        return ("the API server did not accept your credentials (401 Unauthorized): "
                "check the kubeconfig's user, or log in again")
    if status == 403 and "exceeded quota" in message:
        return f"quota exceeded{where}: {message}"
    if status == 403:
        found = _USER.search(message)
        who = f"user {found.group(1)!r}" if found else "you"
        return (f"not allowed: {who} cannot {call.verb} {call.kind.resource}{where} "
                "(ask a cluster admin for access)")
    if status == 404:
        return not_found(call, details, where, message)
    if status == 409 and answer.get("reason") == "AlreadyExists":
        return (f"{call.kind.noun} {call.name} already exists{where}: use "
                f"`arcdesk {call.kind.command or call.kind.noun} apply -f FILE` to change it")
    if status == 422:
        return _invalid(call, details, message)
    return f"the API server answered {status} to {call.verb} {call.kind.resource}: {message}"


def status_object(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def not_found(call: Call, details: Mapping[str, Any], where: str, message: str = "") -> str:
    """A 404 of our kinds without a name in it means the API group is unknown; one of a
    create, that the namespace is missing."""
    if call.kind.ours and not details.get("name"):
        return CRDS_MISSING
    if call.verb == "create":
        return f"cannot create {call.kind.noun} {call.name}{where}: {message}"
    name = details.get("name") or call.name
    hint = f" (see `arcdesk {call.kind.command} list`)" if call.kind.command else ""
    return f"{call.kind.noun} {name} not found{where}{hint}"


def _invalid(call: Call, details: Mapping[str, Any], message: str) -> str:
    causes = [c for c in details.get("causes") or [] if isinstance(c, dict)]
    problems = "; ".join(
        f"{c['field']}: {c.get('message', '')}" if c.get("field") else str(c.get("message", ""))
        for c in causes) or message
    return f"the API server refused {call.kind.noun} {call.name}: {problems}"
