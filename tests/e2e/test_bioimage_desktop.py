"""The bioimage desktop as `make demo` runs it: the chart install, examples/profile-demo.yaml
with the bioimage image pulled by digest from the devcluster registry onto the real node, a
one-seat course, and headless Chromium through the gateway's NodePort.

The trainee double-clicks the ImageJ icon on their desktop (found on the canvas by the icon's
own colour), opens ~/data/cell.tif with File > Open (Ctrl+O, the path typed into the file
dialog) and sees the micrograph: judged by pixels, a large area of many grey levels, which
the course wallpaper (a blue-green gradient) and the apps' flat UI are not.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from devcluster import demo, desktops
from devcluster.kit import Kubectl, wait_for
from tests.e2e.stack import RunningCourse, installed_course
from tests.e2e.test_trainee_story import open_desktop

SCREEN = desktops.GATEWAY_SCREEN
IMAGEJ_ICON = (0xB0, 0x24, 0x6E)  # images/desktop/icons/imagej.svg's background
ICON_TOLERANCE = 28  # the gateway's JPEG-tight encoding shifts colours a little
SAMPLE = "/home/trainee/data/cell.tif"
MICROGRAPH_SHARE = 0.15  # the 660x550 sample covers 35 % of the 1280x800 desktop


@pytest.fixture(scope="module")
def bioimage_images(real_node: dict) -> demo.Images:
    try:
        return demo.push_images("bioimage")
    except demo.DemoError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def bioimage_course(kubectl: Kubectl, real_node: dict, bioimage_images: demo.Images,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCourse]:
    with installed_course(kubectl, bioimage_images, tmp_path_factory.mktemp("stack"),
                          "bioimage", seats=1) as course:
        yield course


def rgb(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def icon_centre(png: bytes, colour: tuple[int, int, int]) -> tuple[int, int] | None:
    """The centre of the pixels of ``colour`` (an icon drawn in it), None if too few."""
    image = rgb(png)
    raw, width = image.tobytes(), image.width
    hits = [i // 3 for i in range(0, len(raw), 3)
            if all(abs(raw[i + k] - colour[k]) <= ICON_TOLERANCE for k in range(3))]
    if len(hits) < 400:  # a 48 px icon is over 2000 such pixels
        return None
    return (sum(h % width for h in hits) // len(hits), sum(h // width for h in hits) // len(hits))


def micrograph_share(png: bytes) -> float:
    """Share of near-grey mid-tone pixels, if they come in many levels (one flat grey panel
    is a dialog, not an image)."""
    raw = rgb(png).tobytes()
    grey = [raw[i] for i in range(0, len(raw), 3)
            if abs(raw[i] - raw[i + 1]) < 10 and abs(raw[i + 1] - raw[i + 2]) < 10
            and 20 < raw[i] < 235]
    if len(set(grey)) < 50:
        return 0.0
    return len(grey) / (len(raw) / 3)


def double_click(page: Any, x: int, y: int) -> None:
    """A person's double-click on desktop pixel (x, y). The page scales the canvas to its
    window, so the pixel is mapped onto the element; and the two clicks are 0.1 s apart, as a
    hand makes them (xfdesktop ignored Playwright's dblclick, whose clicks come together)."""
    box = page.locator(SCREEN).bounding_box()
    scale = box["width"] / page.evaluate(f"() => document.querySelector('{SCREEN}').width")
    page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
    time.sleep(0.3)
    for _ in range(2):
        page.mouse.down()
        time.sleep(0.05)
        page.mouse.up()
        time.sleep(0.1)


def light_share(png: bytes) -> float:
    """Share of light, near-grey pixels: window backgrounds (ImageJ's toolbar, a file
    dialog), which the wallpaper has none of."""
    raw = rgb(png).tobytes()
    light = sum(1 for i in range(0, len(raw), 3)
                if min(raw[i:i + 3]) > 200 and max(raw[i:i + 3]) - min(raw[i:i + 3]) < 16)
    return light / (len(raw) / 3)


def wait_light_share_above(page: Any, what: str, share: float, timeout: float) -> float:
    return wait_for(what, lambda: (s := light_share(desktops.canvas_png(page, SCREEN))) > share
                    and s, timeout=timeout, interval=0.5)


def imagej_running(course: RunningCourse, seat: str) -> bool:
    """A JVM running ImageJ's jar in the seat's pod (what the icon's launcher starts)."""
    result = course.kubectl.run(
        "exec", course.seat_name(seat), "-n", course.namespace, "--", "sh", "-c",
        "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '", check=False)
    return "ij.jar" in result.stdout


def test_bioimage_desktop_starts_imagej_from_its_icon_and_shows_the_sample(
        bioimage_course: RunningCourse, bioimage_images: demo.Images, page: Any,
        tmp_path: Path) -> None:
    [seat] = bioimage_course.links.trainees
    pod = bioimage_course.ready_pod(seat)
    [status] = pod["status"]["containerStatuses"]
    assert status["imageID"].endswith(bioimage_images.desktop.split("@")[1])
    assert not imagej_running(bioimage_course, seat)
    started = time.monotonic()
    open_desktop(page, bioimage_course.links.trainees[seat])
    print(f"trainee link -> desktop drawn: {time.monotonic() - started:.1f}s")

    centre = wait_for("the ImageJ icon on the desktop",
                      lambda: icon_centre(desktops.canvas_png(page, SCREEN), IMAGEJ_ICON),
                      timeout=30, interval=1)
    desktop = light_share(desktops.canvas_png(page, SCREEN))
    double_click(page, *centre)
    wait_for("ImageJ started by its icon", lambda: imagej_running(bioimage_course, seat),
             timeout=30, interval=1)
    # ImageJ's toolbar window (609x110) is 6 % of the screen; its File > Open dialog 45 %.
    toolbar = wait_light_share_above(page, "ImageJ's window", desktop + 0.03, timeout=60)
    before = micrograph_share(desktops.canvas_png(page, SCREEN))
    page.keyboard.press("Control+o")
    wait_light_share_above(page, "ImageJ's Open dialog", toolbar + 0.2, timeout=30)
    page.keyboard.press("Control+l")  # the dialog's location field
    time.sleep(0.5)
    page.keyboard.type(SAMPLE, delay=50)
    time.sleep(1)  # the location field's completion settles; an Enter before it is eaten
    page.keyboard.press("Enter")
    try:
        wait_for(f"{SAMPLE} shown in ImageJ",
                 lambda: micrograph_share(desktops.canvas_png(page, SCREEN)) > before
                 + MICROGRAPH_SHARE, timeout=45, interval=1)
    except AssertionError as error:
        shot = tmp_path / "desktop.png"
        shot.write_bytes(desktops.canvas_png(page, SCREEN))
        raise AssertionError(f"{error}; the desktop then: {shot}") from None
