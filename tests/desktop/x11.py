"""Look at a desktop session's screen and start apps on it as its icons do (desktop tier)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from PIL import Image

APP_TIMEOUT = 120.0  # napari's first start on 2 shared cores with software OpenGL
IMAGE_SHARE = 0.2  # the 660x550 sample fills far more of either app's window than this


def windows(env: dict[str, str]) -> dict[str, dict[str, int]]:
    """Top-level windows by title, with their geometry (wmctrl -lG)."""
    out = subprocess.run(
        ["wmctrl", "-lG"], env=env, capture_output=True, text=True, check=False, timeout=10
    ).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split(None, 7)
        if len(parts) == 8:
            x, y, w, h = (int(v) for v in parts[2:6])
            found[parts[7]] = {"x": x, "y": y, "w": w, "h": h}
    return found


def screen(env: dict[str, str]) -> Image.Image:
    shot = subprocess.run(
        ["xwd", "-root", "-silent"], env=env, capture_output=True, check=True, timeout=20
    ).stdout
    from arcdesk.session import image

    rgb = image.thumbnail(image.parse_xwd(shot), 10_000)
    return Image.frombytes("RGB", (rgb.width, rgb.height), rgb.pixels)


def micrograph_share(img: Image.Image, box: dict[str, int]) -> float:
    """Share of ``box`` covered by mid-grey pixels of many levels: the sample is a grey
    micrograph, while napari's and ImageJ's own UI is flat colour and an empty canvas black."""
    region = img.crop((box["x"], box["y"], box["x"] + box["w"], box["y"] + box["h"]))
    raw = region.tobytes()
    grey = [
        raw[i]
        for i in range(0, len(raw), 3)
        if raw[i] == raw[i + 1] == raw[i + 2] and 20 < raw[i] < 235
    ]
    if len(set(grey)) < 50:  # one flat grey panel is not an image
        return 0.0
    return len(grey) / (box["w"] * box["h"])


def launch(desktop_session: Any, argv: list[str], started: list[Any]) -> None:
    """Start an app by its launcher's command, in the desktop's own environment."""
    env = desktop_session.desktop_env()
    log = (Path(desktop_session.run_dir) / f"{argv[0]}-test.log").open("wb")
    started.append(
        subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    )


def wait_for_micrograph(
    desktop_session: Any, process: Any, name: str, is_image_window: Any
) -> tuple[dict[str, Any], float]:
    """Poll until a window matching ``is_image_window`` shows the micrograph: a window is
    mapped before the app paints into it, so its first screenshot may still be blank."""
    env, share, deadline = desktop_session.x_env(), 0.0, time.monotonic() + APP_TIMEOUT
    titles: dict[str, Any] = {}
    while time.monotonic() < deadline:
        titles = windows(env)
        window = next((box for title, box in titles.items() if is_image_window(title)), None)
        if window:
            share = micrograph_share(screen(env), window)
            if share > IMAGE_SHARE:
                break
        assert process.poll() is None, f"{name} exited; see {name}-test.log in run dir"
        time.sleep(1)
    return titles, share
