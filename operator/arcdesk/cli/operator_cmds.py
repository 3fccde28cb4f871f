"""`arcdesk operator run`: the operator, for a pod in the cluster or a terminal."""

from __future__ import annotations

import secrets
import socket
from typing import Annotated

import typer

from arcdesk.api.naming import is_dns_label
from arcdesk.api.settings import GATEWAY_NAMESPACE_ENV, PREPULL_NAMESPACE_ENV, Settings
from arcdesk.cli.output import fail
from arcdesk.engine import runner
from arcdesk.engine.leadership import LeaseSettings
from arcdesk.engine.runtime import Options

app = typer.Typer(help="Run the arcdesk operator.", no_args_is_help=True)


@app.command()
def run(
    namespace: Annotated[list[str] | None, typer.Option(
        "--namespace", "-n", help="Namespace to serve (repeatable; globs like 'training-*').",
    )] = None,
    all_namespaces: Annotated[bool, typer.Option(
        "--all-namespaces", "-A", help="Serve every namespace.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Concurrent reconciles.")] = Options.workers,
    api_concurrency: Annotated[int, typer.Option(
        min=1, help="Concurrent requests to the API server.")] = Options.api_concurrency,
    resync: Annotated[float, typer.Option(
        min=5, help="Seconds between safety-net re-checks of every object.",
    )] = Options.resync_seconds,
    probe_port: Annotated[int, typer.Option(
        min=0, max=65535, help="Port of /healthz and /metrics (0: off).")] = Options.probe_port,
    probe_host: Annotated[str, typer.Option(
        help="Address of /healthz and /metrics (in a pod the kubelet must reach it).",
    )] = Options.probe_host,
    gateway_namespace: Annotated[str, typer.Option(
        envvar=GATEWAY_NAMESPACE_ENV,
        help="Namespace of the gateway: the only traffic desktops accept.")
    ] = Settings.gateway_namespace,
    kubeconfig: Annotated[str | None, typer.Option(
        envvar="KUBECONFIG", help="Kubeconfig (in a pod: the service account).")] = None,
    prepull_namespace: Annotated[str, typer.Option(
        envvar=PREPULL_NAMESPACE_ENV, help="Namespace of the image pre-pull DaemonSets (the "
        "operator's own; empty: no pre-pull).")] = Settings.prepull_namespace,
    lease: Annotated[str | None, typer.Option(
        metavar="NAMESPACE/NAME", help="Reconcile only while holding this Lease (leader "
        "election): run several replicas, one acts at a time, a standby takes over within "
        "~10 s of the leader's end (at once when it stops cleanly).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    """Reconcile Courses into ready desktops until stopped (SIGINT or SIGTERM)."""
    if bool(namespace) == all_namespaces:
        raise fail("give --namespace NS (repeatable) or --all-namespaces, not both", 2)
    options = Options(namespaces=tuple(namespace or ()), all_namespaces=all_namespaces,
                      workers=workers, api_concurrency=api_concurrency, resync_seconds=resync,
                      probe_port=probe_port, probe_host=probe_host, kubeconfig=kubeconfig,
                      gateway_namespace=gateway_namespace, lease=_lease(lease),
                      prepull_namespace=prepull_namespace)
    runner.run(options, verbose=verbose)


def _lease(value: str | None) -> LeaseSettings | None:
    """``--lease NAMESPACE/NAME``; this process's identity is its host (pod) name plus a
    random suffix, so a restarted container never mistakes its predecessor's hold for its own."""
    if value is None:
        return None
    namespace, _, name = value.partition("/")
    if not (is_dns_label(namespace) and is_dns_label(name)):
        raise fail(f"--lease {value!r}: give NAMESPACE/NAME, e.g. arcdesk/arcdesk-operator", 2)
    return LeaseSettings(namespace, name, f"{socket.gethostname()}_{secrets.token_hex(4)}")
