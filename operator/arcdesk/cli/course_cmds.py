"""`arcdesk course ...`: create, list, show, scale, extend, suspend, resume, end, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arcdesk.cli import course_ops
from arcdesk.cli.options import (
    Context,
    Kubeconfig,
    Namespace,
    Output,
    Target,
    Timeout,
    Wait,
    Yes,
    confirm,
    connect,
    reported,
    target,
)
from arcdesk.cli.output import Format, SeatsBar, emit, emit_object, say
from arcdesk.kube.blocking import Cluster
from arcdesk.kube.kinds import COURSE
from arcdesk.tasks.summaries import COURSE_COLUMNS

app = typer.Typer(name="course", no_args_is_help=True,
                  help="Create courses from YAML files, watch them, change and end them.")


def complete_course(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion: course names in the namespace of -n (or the context's)."""
    params = ctx.params
    try:
        cluster = connect(Target(params.get("kubeconfig"), params.get("context"),
                                 params.get("namespace")))
        names = [str(c["metadata"]["name"]) for c in cluster.list(COURSE)]
    except Exception:  # completion must never print an error into the shell
        return []
    return [n for n in names if n.startswith(incomplete)]


File = Annotated[Path, typer.Option("-f", "--filename", metavar="FILE",
                                    help="YAML file with one or more Courses.")]
Name = Annotated[str, typer.Argument(metavar="COURSE", help="Course name.",
                                     autocompletion=complete_course)]


def _wait(cluster: Cluster, names: list[str], namespace: str | None, timeout: float) -> None:
    for name in names:
        bar = SeatsBar(name)
        try:
            course_ops.wait_ready(cluster, name, namespace, timeout, bar.show)
        finally:
            bar.close()
        say(f"course {name} ready")


def _create_or_apply(verb: str, filename: Path, wait: bool, timeout: float, kubeconfig: Path |
                     None, context: str | None, namespace: str | None) -> None:
    with reported():
        cluster = connect(target(kubeconfig, context, namespace))
        courses = course_ops.load_courses(filename, namespace, cluster.namespace)
        for course in courses:
            meta = course["metadata"]
            send = cluster.create if verb == "created" else cluster.apply
            send(COURSE, course, meta["namespace"])
            say(f"course {meta['name']} {verb} in namespace {meta['namespace']}")
        if wait:
            for course in courses:
                meta = course["metadata"]
                _wait(cluster, [meta["name"]], meta["namespace"], timeout)


@app.command()
def create(filename: File, wait: Wait = False, timeout: Timeout = 600.0,
           kubeconfig: Kubeconfig = None, context: Context = None,
           namespace: Namespace = None) -> None:
    """Create the courses of a YAML file (fails if one exists: use `apply` to change it)."""
    _create_or_apply("created", filename, wait, timeout, kubeconfig, context, namespace)


@app.command()
def apply(filename: File, wait: Wait = False, timeout: Timeout = 600.0,
          kubeconfig: Kubeconfig = None, context: Context = None,
          namespace: Namespace = None) -> None:
    """Create or update the courses of a YAML file so the cluster matches it."""
    _create_or_apply("applied", filename, wait, timeout, kubeconfig, context, namespace)


@app.command("list")
def list_(output: Output = Format.table,
          all_namespaces: Annotated[bool, typer.Option(
              "-A", "--all-namespaces", help="Courses of every namespace.")] = False,
          kubeconfig: Kubeconfig = None, context: Context = None,
          namespace: Namespace = None) -> None:
    """Courses with their seats ready, phase and schedule."""
    with reported():
        rows = course_ops.list_rows(connect(target(kubeconfig, context, namespace)),
                                    all_namespaces)
    columns = COURSE_COLUMNS if not all_namespaces else ("namespace", *COURSE_COLUMNS)
    emit(rows, output, columns if output is Format.table else ())


@app.command()
def show(name: Name, output: Output = Format.table, kubeconfig: Kubeconfig = None,
         context: Context = None, namespace: Namespace = None) -> None:
    """Status, conditions, seats by phase, schedule and recent events of a course."""
    with reported():
        detail = course_ops.show(connect(target(kubeconfig, context, namespace)), name)
    emit_object(detail, output)


@app.command()
def scale(name: Name, seats: Annotated[int, typer.Option(
              "--seats", min=1, max=2000, help="New number of seats.")],
          wait: Wait = False, timeout: Timeout = 600.0, kubeconfig: Kubeconfig = None,
          context: Context = None, namespace: Namespace = None) -> None:
    """Change the number of anonymous seats (homes of removed seats are kept)."""
    with reported():
        cluster = connect(target(kubeconfig, context, namespace))
        course_ops.scale(cluster, name, seats)
        say(f"course {name} scaled to {seats} seats")
        if wait:
            _wait(cluster, [name], None, timeout)


@app.command()
def extend(name: Name,
           until: Annotated[str | None, typer.Option(
               "--until", metavar="TIME", help="New end, e.g. 2026-12-03T17:00:00Z or "
               "'2026-12-03 17:00' (local time).")] = None,
           by: Annotated[str | None, typer.Option(
               "--by", metavar="DURATION", help="Add to the end, e.g. 30m, 2h or 1d.")] = None,
           kubeconfig: Kubeconfig = None, context: Context = None,
           namespace: Namespace = None) -> None:
    """Move the course's end (desktops stop at the end; homes are kept)."""
    with reported():
        new_end = course_ops.extend(connect(target(kubeconfig, context, namespace)), name,
                                    until, by)
    say(f"course {name} now ends at {new_end}")


@app.command()
def suspend(name: Name, kubeconfig: Kubeconfig = None, context: Context = None,
            namespace: Namespace = None) -> None:
    """Stop every desktop of the course; homes and links are kept."""
    with reported():
        course_ops.set_suspend(connect(target(kubeconfig, context, namespace)), name, True)
    say(f"course {name} suspended: desktops stop, homes and links are kept")


@app.command()
def resume(name: Name, wait: Wait = False, timeout: Timeout = 600.0,
           kubeconfig: Kubeconfig = None, context: Context = None,
           namespace: Namespace = None) -> None:
    """Start the desktops of a suspended course again."""
    with reported():
        cluster = connect(target(kubeconfig, context, namespace))
        course_ops.set_suspend(cluster, name, False)
        say(f"course {name} resumed")
        if wait:
            _wait(cluster, [name], None, timeout)


@app.command()
def end(name: Name, yes: Yes = False, kubeconfig: Kubeconfig = None, context: Context = None,
        namespace: Namespace = None) -> None:
    """End the course now: desktops stop, homes are kept (`extend` brings it back)."""
    confirm(f"End course {name} now and stop every desktop?", yes)
    with reported():
        ended = course_ops.end(connect(target(kubeconfig, context, namespace)), name)
    say(f"course {name} ended at {ended}: desktops stop, homes are kept")


@app.command()
def delete(name: Name, yes: Yes = False, kubeconfig: Kubeconfig = None,
           context: Context = None, namespace: Namespace = None) -> None:
    """Delete the course with its seats, desktops and links."""
    confirm(f"Delete course {name} with its desktops and links?", yes)
    with reported():
        kept = course_ops.delete(connect(target(kubeconfig, context, namespace)), name)
    note = f"; {kept} home volume{'s' if kept != 1 else ''} kept (reclaimPolicy Retain)" \
        if kept else ""
    say(f"course {name} deleted{note}")
