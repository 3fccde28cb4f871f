"""`arcdesk profile ...`: the DesktopProfiles an admin has installed (image, defaults)."""

from __future__ import annotations

from typing import Annotated

import typer

from arcdesk.cli.course_ops import now
from arcdesk.cli.options import Context, Kubeconfig, Output, Target, connect, reported, target
from arcdesk.cli.output import Format, emit, emit_object
from arcdesk.kube.kinds import PROFILE
from arcdesk.tasks import summaries
from arcdesk.tasks.summaries import PROFILE_COLUMNS

app = typer.Typer(name="profile", no_args_is_help=True,
                  help="Desktop profiles: which images and defaults courses can use.")


def complete_profile(ctx: typer.Context, incomplete: str) -> list[str]:
    try:
        cluster = connect(Target(ctx.params.get("kubeconfig"), ctx.params.get("context")))
        names = [str(p["metadata"]["name"]) for p in cluster.list(PROFILE)]
    except Exception:  # completion must never print an error into the shell
        return []
    return [n for n in names if n.startswith(incomplete)]


@app.command("list")
def list_(output: Output = Format.table, kubeconfig: Kubeconfig = None,
          context: Context = None) -> None:
    """Every DesktopProfile with its image and default resources."""
    with reported():
        found = connect(target(kubeconfig, context, None)).list(PROFILE)
    at = now()
    rows = sorted((summaries.profile_row(p, at) for p in found), key=lambda r: str(r["name"]))
    emit(rows, output, PROFILE_COLUMNS if output is Format.table else ())


@app.command()
def show(name: Annotated[str, typer.Argument(metavar="PROFILE", help="Profile name.",
                                             autocompletion=complete_profile)],
         output: Output = Format.table, kubeconfig: Kubeconfig = None,
         context: Context = None) -> None:
    """One profile: image, resources, apps, datasets, environment."""
    with reported():
        found = connect(target(kubeconfig, context, None)).get(PROFILE, name)
    emit_object(summaries.profile_detail(found, now()), output)
