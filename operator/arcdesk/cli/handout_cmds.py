"""`arcdesk handout COURSE`: one card per trainee (title, name or seat, link, QR code)."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated

import typer

from arcdesk.cli import seat_ops
from arcdesk.cli.course_cmds import Name
from arcdesk.cli.options import (
    Context,
    GatewayUrl,
    Kubeconfig,
    Namespace,
    connect,
    reported,
    target,
)
from arcdesk.cli.output import fail, info, raw
from arcdesk.tasks import handout as cards_format
from arcdesk.tasks import links


class HandoutFormat(enum.StrEnum):
    csv = "csv"
    html = "html"
    pdf = "pdf"


def render(cards: list[cards_format.Card], fmt: HandoutFormat, title: str) -> bytes:
    if fmt is HandoutFormat.csv:
        return cards_format.to_csv(cards).encode()
    if fmt is HandoutFormat.html:
        return cards_format.to_html(cards, title).encode()
    return cards_format.to_pdf(cards, title)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only: the cards hold personal links."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def handout(
    course: Name,
    fmt: Annotated[HandoutFormat, typer.Option(
        "--format", "-F", case_sensitive=False, help="csv (mail merge), html or pdf (print).")
    ] = HandoutFormat.pdf,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="PATH", help="Where to write ('-': stdout). Default: stdout for csv, "
        "COURSE-handout.html/.pdf otherwise.")] = None,
    gateway_url: GatewayUrl = None, kubeconfig: Kubeconfig = None, context: Context = None,
    namespace: Namespace = None,
) -> None:
    """Cards with each trainee's personal link and QR code, for printing or mailing."""
    with reported():
        gateway = links.gateway_url(gateway_url, os.environ)
        cards = seat_ops.cards(connect(target(kubeconfig, context, namespace)), course, gateway)
    data = render(cards, fmt, cards[0].title if cards else course)
    destination = out or (Path("-") if fmt is HandoutFormat.csv
                          else Path(f"{course}-handout.{fmt.value}"))
    if str(destination) == "-":
        raw(data)
        return
    try:
        write_private(destination, data)
    except OSError as error:
        raise fail(f"cannot write {destination}: {error.strerror or error}", 1) from None
    info(f"wrote {len(cards)} card{'s' if len(cards) != 1 else ''} to {destination} "
         "(personal links inside: share each card only with its trainee)")

