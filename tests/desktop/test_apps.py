"""The bioimage profile's apps start on the session's display and show the sample image."""

from __future__ import annotations

from typing import Any

from tests.desktop.x11 import IMAGE_SHARE, launch, wait_for_micrograph


def test_napari_opens_the_sample_image(desktop_session: Any, app_process: Any) -> None:
    sample = desktop_session.home / "data" / "cell.tif"
    assert desktop_session.wait_seeded() == "done"
    assert sample.exists(), "bioimage seeding did not put the sample into ~/data"
    launch(desktop_session, ["napari", str(sample)], app_process)
    titles, share = wait_for_micrograph(
        desktop_session, app_process[0], "napari", lambda title: title == "napari"
    )
    assert share > IMAGE_SHARE, (
        f"napari window shows no micrograph ({share:.0%} grey); windows: {sorted(titles)}"
    )


def test_imagej_opens_the_sample_image(desktop_session: Any, app_process: Any) -> None:
    sample = desktop_session.home / "data" / "cell.tif"
    assert desktop_session.wait_seeded() == "done"
    launch(desktop_session, ["imagej", str(sample)], app_process)
    titles, share = wait_for_micrograph(
        desktop_session, app_process[0], "imagej", lambda title: title.startswith("cell.tif")
    )
    assert share > IMAGE_SHARE, (
        f"no ImageJ window showing cell.tif ({share:.0%} grey); windows: {sorted(titles)}"
    )
    assert "ImageJ" in titles
