"""`arcdesk gateway run`: serve personal links, noVNC and the instructor page;
`arcdesk gateway install-novnc`: put the pinned noVNC where `run` looks for it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from arcdesk.cli.output import fail, say
from arcdesk.gateway import novnc
from arcdesk.gateway.app import NoVncMissing
from arcdesk.gateway.ratelimit import parse_networks
from arcdesk.gateway.server import ServeOptions, serve_forever
from arcdesk.gateway.state import NOVNC_DIR, GatewayConfig

app = typer.Typer(name="gateway", help="The gateway: the only door into the desktops.",
                  no_args_is_help=True)


def _config(trusted_proxy: list[str], address_map: list[str], novnc_dir: Path,
            plain_http: bool) -> GatewayConfig:
    try:
        networks = parse_networks(trusted_proxy)
    except ValueError as error:
        raise fail(f"--trusted-proxy: {error}", 2) from error
    mapping = dict(item.split("=", 1) for item in address_map if "=" in item)
    if len(mapping) != len(address_map):
        raise fail("--address-map takes FROM=TO", 2)
    return GatewayConfig(novnc_dir=novnc_dir, trusted_proxies=networks, address_map=mapping,
                         plain_http=plain_http)


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = ServeOptions.host,
    port: Annotated[int, typer.Option(
        help="Port to listen on.", min=1, max=65535)] = ServeOptions.port,
    metrics_host: Annotated[str, typer.Option(
        help="Address of the /metrics listener (Prometheus must reach it).",
    )] = ServeOptions.metrics_host,
    metrics_port: Annotated[int, typer.Option(
        help="Port of /metrics, apart from trainee traffic (0: off).", min=0, max=65535,
    )] = ServeOptions.metrics_port,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Serve the courses of one namespace.")
    ] = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="Serve the courses of every namespace.")
    ] = False,
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig file (default: $KUBECONFIG, then "
                                  "~/.kube/config, then the pod's service account).")
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None, typer.Option(help="CIDR of a reverse proxy whose X-Forwarded-For "
                                       "names the client (repeatable).")
    ] = None,
    address_map: Annotated[
        list[str] | None, typer.Option(help="FROM=TO: dial TO for EndpointSlice address FROM; "
                                       "only for a dev cluster without a pod network "
                                       "(repeatable).")
    ] = None,
    novnc_dir: Annotated[
        Path, typer.Option(help="noVNC files (`arcdesk gateway install-novnc` puts them here).")
    ] = NOVNC_DIR,
    plain_http: Annotated[bool, typer.Option(
        help="Trainees reach this gateway over plain HTTP on a network you trust (a lab, a "
             "devcluster): session cookies without Secure, which browsers drop from http:// "
             "pages. Loopback addresses never need it.")] = False,
    watch_inactivity: Annotated[float, typer.Option(
        help="Seconds a watch may stay silent (the API server sends a bookmark about once a "
             "minute) before it is dropped and resumed.", min=1.0,
    )] = ServeOptions.watch_inactivity,
    idle_timeout: Annotated[float, typer.Option(
        help="Seconds a connection may take to send a request, from its opening or its last "
             "response, before it is closed (keep it above your ingress's upstream "
             "keep-alive).", min=1.0,
    )] = ServeOptions.idle_timeout,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Watch Seats and their Secrets and serve /s/<token>, /i/<token> and noVNC on --port,
    and /metrics on --metrics-port."""
    if all_namespaces == (namespace is not None):
        raise fail("give exactly one of --namespace NAME or --all-namespaces", 2)
    if metrics_port == port:
        raise fail("--metrics-port must differ from --port: /metrics stays off the public port",
                   2)
    config = _config(trusted_proxy or [], address_map or [], novnc_dir, plain_http)
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = ServeOptions(host=host, port=port, metrics_host=metrics_host,
                           metrics_port=metrics_port, namespace=namespace,
                           kubeconfig=kubeconfig, config=config,
                           watch_inactivity=watch_inactivity, idle_timeout=idle_timeout)
    try:
        asyncio.run(serve_forever(options))
    except NoVncMissing as error:
        raise fail(str(error), 1) from error
    except OSError as error:  # e.g. a port already taken
        raise fail(f"gateway: {error}", 1) from error
    except KeyboardInterrupt:
        pass


@app.command("install-novnc")
def install_novnc(
    dest: Annotated[Path, typer.Option(help="Where to unpack noVNC (the default of "
                                       "`gateway run --novnc-dir`).")] = NOVNC_DIR,
    registry: Annotated[str, typer.Option(help="npm registry (a mirror of it works too).")
                        ] = novnc.REGISTRY,
) -> None:
    """Download @novnc/novnc (pinned version, checked against its sha512) and unpack it;
    nothing to do when DEST already holds it."""
    try:
        fresh = novnc.install(dest, registry)
    except novnc.NoVncInstallError as error:
        raise fail(str(error), 1) from error
    say(f"noVNC {novnc.VERSION} {'installed in' if fresh else 'already in'} {dest}")
