"""HTML pages (Jinja2, autoescaped) and the pure decision of what a seat's page offers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from arcdesk.gateway.records import CourseInfo, SeatInfo

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class SeatView:
    """What the trainee's landing page says and offers."""

    state: str  # ready | starting | startable | stopped | failed
    text: str
    can_connect: bool
    can_start: bool

    @property
    def refresh(self) -> bool:
        """Reload the page every few seconds while the desktop is on its way."""
        return self.state == "starting"


def startable(seat: SeatInfo, course: CourseInfo | None) -> bool:
    """An idle-stopped desktop of a running course may be woken when the course allows it."""
    wake = course.wake_on_connect if course else True  # the CRD's default
    return (seat.phase == "Stopped" and seat.idle_stopped and seat.desired_state == "Running"
            and wake)


def seat_view(seat: SeatInfo, course: CourseInfo | None, reachable: bool) -> SeatView:
    if seat.phase == "Running" and reachable:
        return SeatView("ready", "Your desktop is ready.", True, False)
    if seat.phase == "Failed":
        return SeatView("failed", "This desktop has a problem; please tell your instructor.",
                        False, False)
    if seat.phase == "Stopped" and not seat.start_requested:
        if startable(seat, course):
            return SeatView("startable", "Your desktop was stopped after being idle. "
                            "Start it again to continue where you left off.", False, True)
        if seat.desired_state == "Stopped":
            return SeatView("stopped", "The course is not running right now (suspended or "
                            "outside its schedule). Your files are kept.", False, False)
        return SeatView("stopped", "Your desktop is stopped. Your files are kept; ask your "
                        "instructor to start it.", False, False)
    return SeatView("starting", f"Your desktop is starting ({seat.phase.lower()})…", False, False)


def render(request: web.Request, template: str, status: int = 200,
           **context: Any) -> web.Response:
    html = _ENV.get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
