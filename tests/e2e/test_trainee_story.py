"""The whole story on real parts: `make demo`'s stack (operator, gateway, the demo course on
the devcluster's real node) and headless Chromium as the trainee and as the instructor.

The stack is what an admin's `helm install` makes: operator and gateway pods on the real
node, images pulled by digest from the devcluster registry, links through the gateway's NodePort.
A trainee opens their link, sees their XFCE desktop, opens a terminal with Ctrl+Alt+T and
writes a file into their home; the desktop pod is deleted, the operator recreates it, and
the same link shows a fresh desktop whose terminal still finds the file. The instructor's
page shows the seat's live thumbnail; its view-only page shows the screen and ignores input.

What the desktop shows is judged by pixels: an open terminal is a large black area, and a
terminal cleared to white (``printf '\\e[107m\\e[2J'``) is a large white one — the story's
commands draw white only when what they check holds.
"""

from __future__ import annotations

import io
import re
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

from PIL import Image, ImageChops

from devcluster import desktops
from devcluster.demo import Images
from devcluster.kit import wait_for
from tests.e2e.conftest import NODE_NAME
from tests.e2e.stack import RunningCourse, demo_stack

__all__ = ["demo_stack"]  # the fixture, shared with `make demo`'s launcher

WHITE_SCREEN = r"printf '\e[107m\e[2J'"  # clear the terminal to bright white
TERMINAL_SHARE = 0.15  # an 80x24 terminal covers ~28% of the 1280x800 desktop
SCREEN = desktops.GATEWAY_SCREEN


def _channels(png: bytes) -> tuple[Image.Image, Image.Image]:
    """Per pixel, the brightest and the darkest of its red, green and blue."""
    r, g, b = Image.open(io.BytesIO(png)).convert("RGB").split()
    return (ImageChops.lighter(ImageChops.lighter(r, g), b),
            ImageChops.darker(ImageChops.darker(r, g), b))


def black(png: bytes) -> float:
    """The share of black pixels (a terminal's background)."""
    brightest = _channels(png)[0].histogram()
    return sum(brightest[:24]) / sum(brightest)


def white(png: bytes) -> float:
    """The share of white pixels (a terminal cleared to white)."""
    darkest = _channels(png)[1].histogram()
    return sum(darkest[246:]) / sum(darkest)


def open_desktop(page: Any, link: str) -> None:
    """A trainee's way in: the link, the course page, Connect, the drawn desktop."""
    page.goto(link)
    desktops.connect_from_landing(page)
    desktops.wait_gateway_connected(page)
    problems = desktops.desktop_problems_after(page, 30, SCREEN)
    assert not problems, f"the canvas behind the trainee link is not the desktop: {problems}"


def open_terminal(page: Any) -> None:
    """Ctrl+Alt+T, as on any XFCE desktop; the terminal takes the keyboard."""
    before = black(desktops.canvas_png(page, SCREEN))
    page.locator(SCREEN).click(position={"x": 1200, "y": 760})  # the wallpaper: keys to noVNC
    page.keyboard.press("Control+Alt+t")
    wait_for("a terminal window on the desktop",
             lambda: black(desktops.canvas_png(page, SCREEN)) > before + TERMINAL_SHARE, timeout=20)


def run_in_terminal(page: Any, command: str) -> None:
    page.keyboard.type(command + "\n")


def wait_white(page: Any, baseline: float, what: str, selector: str = SCREEN,
               timeout: float = 20) -> None:
    wait_for(what, lambda: white(desktops.canvas_png(page, selector)) > baseline + TERMINAL_SHARE,
             timeout=timeout, interval=0.5)


def test_the_course_runs_on_the_chart_install_pulled_by_digest(
        demo_stack: RunningCourse, demo_images: Images) -> None:
    """What `helm install` made: operator and gateway pods (Pod Security `restricted`) on the
    real node from the registry by digest; desktops by digest; links through the NodePort."""
    stack = demo_stack.stack
    labels = demo_stack.kubectl.get_json("namespace", stack.namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pulled = {"operator": demo_images.operator, "gateway": demo_images.operator}
    for component, reference in pulled.items():
        [pod] = stack.pods(component)
        status = pod["status"]["containerStatuses"][0]
        assert pod["spec"]["nodeName"] == NODE_NAME and status["ready"], (component, status)
        assert pod["spec"]["containers"][0]["image"] == reference
        assert status["imageID"].endswith(reference.split("@")[1]), status["imageID"]
    desktop = demo_stack.pod("seat-001")["status"]["containerStatuses"]
    assert {c["imageID"].split("@")[1] for c in desktop} == {demo_images.desktop.split("@")[1]}
    node_ip = stack.node_ip()
    assert stack.gateway_url.startswith(f"http://{node_ip}:3"), stack.gateway_url  # NodePort
    # The desktop image is held on the real node by a pre-pull pod in the release namespace.
    images = wait_for("the course to report its image pre-pulled", lambda: (
        found if (found := demo_stack.kubectl.get_json(
            "course", demo_stack.name, "-n", stack.namespace)["status"].get("images", {})
        ).get("summary") == "1/1" else None), timeout=60)
    assert images["image"] == demo_images.desktop
    assert all(link.startswith(stack.gateway_url + "/s/")
               for link in demo_stack.links.trainees.values())


def seat_cookie(link: str) -> tuple[str, str]:
    """Open a personal link as a browser would: the seat cookie it sets, and the seat page."""
    request = urllib.request.Request(link)
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(request, timeout=10) as response:
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        page = re.search(r'url=([^"]+)"', response.read().decode())
    assert page, "the link page names no seat page"
    return cookie, link.split("/s/")[0] + page.group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def status_with(cookie: str, url: str) -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie, "X-Arcdesk-Request": "1"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_through_the_gateway_pod_a_trainee_opens_only_their_own_seat(
        demo_stack: RunningCourse) -> None:
    cookie_a, seat_a = seat_cookie(demo_stack.links.trainees["seat-001"])
    _, seat_b = seat_cookie(demo_stack.links.trainees["seat-002"])
    assert seat_a != seat_b
    assert status_with(cookie_a, seat_a + "credentials") == 200  # the control
    for page in ("", "desktop", "credentials"):
        assert status_with(cookie_a, seat_b + page) == 403, f"seat A's cookie opened {page!r}"


def test_a_file_written_in_the_desktop_outlives_its_pod(
        demo_stack: RunningCourse, browser: Any) -> None:
    seat, note = "seat-001", f"kept-{secrets.token_hex(4)}"
    first = demo_stack.ready_pod(seat)
    page = browser.new_page()
    open_desktop(page, demo_stack.links.trainees[seat])
    open_terminal(page)
    run_in_terminal(page, f"echo {note} > ~/story.txt")
    wait_for("the typed command to write ~/story.txt in the pod",
             lambda: demo_stack.home_file(seat, "story.txt") == f"{note}\n", timeout=20)

    demo_stack.kubectl.run("delete", "pod", first["metadata"]["name"], "-n",
                           demo_stack.namespace, "--wait=true")
    demo_stack.ready_pod(seat, other_than=first["metadata"]["uid"])  # the operator's repair

    open_desktop(page, demo_stack.links.trainees[seat])  # same link, a new desktop
    open_terminal(page)
    baseline = white(desktops.canvas_png(page, SCREEN))
    run_in_terminal(page, f"grep -qx {note} ~/story.txt && {WHITE_SCREEN}")
    wait_white(page, baseline, "the new desktop's terminal to find ~/story.txt (white)")
    assert demo_stack.home_file(seat, "story.txt") == f"{note}\n"
    page.close()


def test_instructor_sees_the_seat_live_and_view_only_ignores_input(
        demo_stack: RunningCourse, browser: Any) -> None:
    seat = "seat-002"
    card = f"li.seat-card[data-seat='{seat}']"
    instructor = browser.new_page()
    instructor.goto(demo_stack.links.instructor)
    desktops.wait_thumbnails_drawn(instructor)
    assert instructor.locator("li.seat-card").count() == 2
    shown = f"{card} canvas.thumb"
    thumbnail = wait_for("the seat's thumbnail to show its desktop", lambda: (
        png if not desktops.desktop_problems(png := desktops.canvas_png(instructor, shown))
        else None), timeout=20, interval=1)

    trainee = browser.new_page()
    open_desktop(trainee, demo_stack.links.trainees[seat])
    open_terminal(trainee)
    baseline = white(desktops.canvas_png(trainee, SCREEN))
    run_in_terminal(trainee, WHITE_SCREEN)
    wait_white(trainee, baseline, "the trainee's terminal cleared to white")
    wait_white(instructor, white(thumbnail), "the instructor's thumbnail to show the white "
               "terminal", selector=shown, timeout=30)

    instructor.click(f"{card} a.view")
    instructor.wait_for_function("() => document.body.dataset.state === 'connected'",
                                 timeout=20000)
    assert instructor.locator("#screen").get_attribute("data-view-only") == "true"
    wait_white(instructor, baseline, "the view-only page to show the trainee's screen")
    instructor.locator(SCREEN).click(position={"x": 400, "y": 300})
    run_in_terminal(instructor, "touch ~/view-only-was-here")
    time.sleep(1)
    # The control: the same keys from the trainee's page arrive (after the instructor's).
    run_in_terminal(trainee, "touch ~/trainee-was-here")
    wait_for("the trainee's keys to reach the desktop",
             lambda: demo_stack.home_file(seat, "trainee-was-here") is not None, timeout=20)
    assert demo_stack.home_file(seat, "view-only-was-here") is None, \
        "keys typed on the view-only page reached the desktop"
    instructor.close()
    trainee.close()
