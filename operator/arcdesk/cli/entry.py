"""Console entry point of `arcdesk`.

`arcdesk operator run` is a long-running process sized for 1000 seats; it imports only
the operator's command, not every other command's libraries (some 25 MiB of memory).
"""

from __future__ import annotations

import sys

import typer


def main() -> None:
    if sys.argv[1:3] == ["operator", "run"]:
        from arcdesk.cli import operator_cmds

        single = typer.Typer(name="arcdesk", pretty_exceptions_enable=False)
        single.add_typer(operator_cmds.app, name="operator")
        single()
        return
    from arcdesk.cli.main import app

    app()
