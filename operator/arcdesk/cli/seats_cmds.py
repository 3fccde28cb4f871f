"""`arcdesk seats ...`: list a course's seats (optionally with links), re-issue one seat's
credentials, and print the view-only link of one seat."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from arcdesk.cli import seat_ops
from arcdesk.cli.course_cmds import Name
from arcdesk.cli.options import (
    Context,
    GatewayUrl,
    Kubeconfig,
    Namespace,
    Output,
    Timeout,
    connect,
    reported,
    target,
)
from arcdesk.cli.output import Format, emit, emit_object, say
from arcdesk.tasks import links
from arcdesk.tasks.summaries import SEAT_COLUMNS

app = typer.Typer(name="seats", no_args_is_help=True,
                  help="The seats of a course: status, personal links, re-issue, view-only.")

Seat = Annotated[str, typer.Argument(metavar="SEAT", help="Seat id as `seats list` shows it "
                                     "(e.g. seat-001 or a roster id).")]


@app.command("list")
def list_(course: Name, show_links: Annotated[bool, typer.Option(
              "--show-links", help="Add each trainee's personal link (secret: share with care).")
          ] = False,
          gateway_url: GatewayUrl = None, output: Output = Format.table,
          kubeconfig: Kubeconfig = None, context: Context = None,
          namespace: Namespace = None) -> None:
    """Each seat's phase, node and idle time; --show-links adds the personal links."""
    with reported():
        gateway = links.gateway_url(gateway_url, os.environ) if show_links else None
        rows = seat_ops.seat_rows(connect(target(kubeconfig, context, namespace)), course,
                                  gateway)
    columns = (*SEAT_COLUMNS, "link") if show_links else SEAT_COLUMNS
    emit(rows, output, columns if output is Format.table else ())


@app.command()
def reissue(course: Name, seat: Seat,
            show_link: Annotated[bool, typer.Option(
                "--show-link", help="Print the new personal link.")] = False,
            gateway_url: GatewayUrl = None, timeout: Timeout = 60.0,
            kubeconfig: Kubeconfig = None, context: Context = None,
            namespace: Namespace = None) -> None:
    """New personal link and passwords for one seat; the old link stops working."""
    with reported():
        gateway = links.gateway_url(gateway_url, os.environ) if show_link else None
        done = seat_ops.reissue(connect(target(kubeconfig, context, namespace)), course, seat,
                                timeout)
    say(f"seat {done.seat} of course {course}: new link and passwords issued "
        f"(generation {done.generation}); the old link no longer works")
    if gateway is not None:
        say(links.trainee_link(gateway, done.token))


@app.command()
def shadow(course: Name, seat: Seat, gateway_url: GatewayUrl = None,
           output: Output = Format.table, kubeconfig: Kubeconfig = None,
           context: Context = None, namespace: Namespace = None) -> None:
    """Print the view-only link of one seat (look over the trainee's shoulder)."""
    with reported():
        gateway = links.gateway_url(gateway_url, os.environ)
        found = seat_ops.shadow(connect(target(kubeconfig, context, namespace)), course, seat,
                                gateway)
    if output is Format.table:
        say(found["view"])
        say(f"(open the course's instructor link first, once per browser: "
            f"{found['instructor']})")
    else:
        emit_object(found, output)
