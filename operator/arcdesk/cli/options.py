"""Options every cluster command takes (as kubectl spells them) and the one place where
failures become a one-line error and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from arcdesk.cli.files import InputError
from arcdesk.cli.output import Format, fail
from arcdesk.kube import ApiError
from arcdesk.kube.blocking import Cluster
from arcdesk.kube.blocking import connect as connect_cluster
from arcdesk.tasks.course_edits import EditError, UsageProblem
from arcdesk.tasks.links import GATEWAY_ENV, GatewayUrlError

Kubeconfig = Annotated[Path | None, typer.Option(
    "--kubeconfig", metavar="FILE", help="Kubeconfig file (default: $KUBECONFIG, then "
    "~/.kube/config).", rich_help_panel="Cluster")]
Context = Annotated[str | None, typer.Option(
    "--context", metavar="NAME", help="Kubeconfig context to use (default: the current one).",
    rich_help_panel="Cluster")]
Namespace = Annotated[str | None, typer.Option(
    "-n", "--namespace", metavar="NS", help="Namespace (default: the context's, else "
    "'default').", rich_help_panel="Cluster")]
Output = Annotated[Format, typer.Option(
    "-o", "--output", help="Output format.", case_sensitive=False)]
GatewayUrl = Annotated[str | None, typer.Option(
    "--gateway-url", envvar=GATEWAY_ENV, metavar="URL",
    help=f"Base URL of the arcdesk gateway, for links (or set {GATEWAY_ENV}).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
Wait = Annotated[bool, typer.Option("--wait", help="Wait until every seat is ready, showing "
                                    "progress.")]
Timeout = Annotated[float, typer.Option("--timeout", metavar="SECONDS", min=1,
                                        help="How long --wait waits.")]


class CommandError(Exception):
    """A command that could not finish (a wait that timed out, a link not made yet);
    ``str()`` is the one line to show."""


@dataclass(frozen=True)
class Target:
    """Where to talk to: the kubectl-style global options."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str | None = None


def connect(target: Target) -> Cluster:
    """The cluster ``target`` names, as kubectl would pick it; ApiError when it cannot."""
    return connect_cluster(target.kubeconfig, target.context, target.namespace)


def target(kubeconfig: Path | None, context: str | None, namespace: str | None) -> Target:
    return Target(kubeconfig=kubeconfig, context=context, namespace=namespace)


@contextmanager
def reported() -> Iterator[None]:
    """Turn every expected failure into one line on stderr: exit 2 for usage, else 1."""
    try:
        yield
    except UsageProblem as problem:
        raise fail(str(problem), 2) from None
    except InputError as problem:
        raise fail(str(problem), 2) from None
    except (ApiError, CommandError, EditError, GatewayUrlError) as problem:
        raise fail(str(problem), 1) from None


def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; without one, --yes is required (exit 2 otherwise)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise fail(f"{question} Refusing without a terminal: pass --yes", 2)
    if not typer.confirm(question, default=False, err=True):
        raise fail("nothing changed", 1)
