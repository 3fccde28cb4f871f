"""The `arcdesk` command: one sub-app per noun, verbs as commands."""

from __future__ import annotations

import typer

from arcdesk.cli import (
    capacity_cmds,
    course_cmds,
    gateway_cmds,
    handout_cmds,
    offline_cmds,
    operator_cmds,
    profile_cmds,
    seats_cmds,
)

app = typer.Typer(
    name="arcdesk",
    help="Browser desktops for training courses on Kubernetes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # never print locals (they may hold secrets)
)
app.command()(offline_cmds.validate)
app.command()(offline_cmds.render)
app.add_typer(gateway_cmds.app)
app.add_typer(operator_cmds.app, name="operator")
app.add_typer(course_cmds.app)
app.add_typer(seats_cmds.app)
app.command()(handout_cmds.handout)
app.add_typer(profile_cmds.app)
app.command("capacity")(capacity_cmds.capacity_command)
