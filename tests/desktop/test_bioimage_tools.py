"""The bioimage course's tools on a real desktop: ImageJ reads a multichannel OME-TIFF through
Bio-Formats, CellProfiler counts the sample nuclei headless, napari opens OME-Zarr through its
plugin, and Bio-Formats' command-line tools answer. Each is started the way its launcher
starts it, in the desktop's own environment, and each has no network to fall back on."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path
from typing import Any

from devcluster import desktops
from tests.desktop.x11 import IMAGE_SHARE, launch, wait_for_micrograph

IHC_CHANNELS = ("Hematoxylin", "Eosin", "DAB")
COUNT_TOLERANCE = 0.1  # a segmentation within 10 % of the true count is a plausible one


def data_dir(desktop_session: Any) -> Path:
    assert desktop_session.wait_seeded() == "done"
    return Path(desktop_session.home) / "data"


def run_in_desktop(desktop_session: Any, argv: list[str], timeout: float) -> str:
    result = subprocess.run(
        argv, env=desktop_session.desktop_env(), capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    assert result.returncode == 0, f"{argv[0]} exit {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout


def test_showinf_reads_the_channels_of_the_ome_tiff(desktop_session: Any) -> None:
    out = run_in_desktop(
        desktop_session, ["showinf", "-nopix", "-omexml", str(data_dir(desktop_session) /
                                                               "ihc.ome.tif")], timeout=60
    )
    assert "SizeC = 3" in out
    for name in IHC_CHANNELS:
        assert f'Name="{name}"' in out, f"channel {name} missing from showinf's OME-XML"


def test_imagej_opens_the_multichannel_ome_tiff_through_bioformats(
    desktop_session: Any, app_process: Any
) -> None:
    sample = data_dir(desktop_session) / "ihc.ome.tif"
    report = Path(desktop_session.run_dir) / "imagej-dimensions.txt"
    macro = (
        f'run("Bio-Formats Importer", "open=[{sample}] autoscale color_mode=Grayscale '
        f'view=Hyperstack stack_order=XYCZT");'
        f'getDimensions(w, h, c, z, t); File.saveString(w+" "+h+" "+c, "{report}");'
    )
    launch(desktop_session, ["imagej", "-eval", macro], app_process)
    titles, share = wait_for_micrograph(
        desktop_session, app_process[0], "imagej", lambda title: title.startswith("ihc.ome.tif")
    )
    assert share > IMAGE_SHARE, (
        f"no ImageJ window showing ihc.ome.tif ({share:.0%} grey); windows: {sorted(titles)}"
    )
    assert report.read_text().split() == ["512", "512", "3"], "importer did not read 3 channels"


def test_cellprofiler_counts_the_sample_nuclei_into_the_trainees_arc(
    desktop_session: Any,
) -> None:
    """The walkthrough's step (docs/bioimage-course.md): the sample pipeline counts the
    nuclei headless, its tables land in the ARC's runs/ and are committed as the trainee."""
    data = data_dir(desktop_session)
    arc = Path(desktop_session.home) / "ARCs" / desktops.COURSE
    out = arc / "runs" / "count-nuclei"
    run_in_desktop(
        desktop_session,
        ["cellprofiler", "-c", "-r", "-p", str(data / "count-nuclei.cppipe"),
         "-i", str(data / "nuclei"), "-o", str(out)],
        timeout=300,
    )
    truth = {row["image"]: int(row["nuclei"]) for row in csv.DictReader(
        (data / "nuclei" / "counts.csv").open())}
    with (out / "nuclei_Image.csv").open() as table:
        counted = {row["FileName_DNA"]: float(row["Count_Nuclei"]) for row in csv.DictReader(table)}
    assert counted.keys() == truth.keys()
    for image, count in truth.items():
        assert abs(counted[image] - count) <= COUNT_TOLERANCE * count, (image, counted[image])
    assert (out / "nuclei_Nuclei.csv").stat().st_size > 0, "no per-nucleus measurements"
    git = ["git", "-C", str(arc)]
    run_in_desktop(desktop_session, [*git, "add", "runs"], timeout=30)
    run_in_desktop(desktop_session, [*git, "commit", "-q", "-m", "nuclei counts"], timeout=30)
    author = run_in_desktop(desktop_session, [*git, "log", "-1", "--format=%an"], timeout=30)
    assert author.strip() == desktops.TRAINEE.strip(".")  # git trims a name's end dots


def test_napari_opens_the_ome_zarr_through_its_plugin(
    desktop_session: Any, app_process: Any
) -> None:
    sample = data_dir(desktop_session) / "cell.ome.zarr"
    launch(desktop_session, ["napari", "--plugin", "napari-ome-zarr", str(sample)], app_process)
    titles, share = wait_for_micrograph(
        desktop_session, app_process[0], "napari", lambda title: title == "napari"
    )
    assert share > IMAGE_SHARE, (
        f"napari window shows no micrograph from the OME-Zarr ({share:.0%} grey); "
        f"windows: {sorted(titles)}"
    )


def icon_file(env: dict[str, str], icon: str) -> Path | None:
    """Where the desktop's icon themes (XDG_DATA_DIRS) have ``icon``, if anywhere."""
    for data in env["XDG_DATA_DIRS"].split(":"):
        for found in Path(data, "icons").glob(f"*/*/*/{icon}.*"):
            return found
    return None


def test_each_app_icon_names_a_command_and_an_icon_the_desktop_has(desktop_session: Any) -> None:
    """What a trainee double-clicks: ~/Desktop/arcdesk-<app>.desktop, whose Exec is on the
    desktop's PATH and whose Icon its themes can draw (not the blank fallback)."""
    env = desktop_session.desktop_env()
    data_dir(desktop_session)  # seeding writes the icons
    for app in desktops.BIOIMAGE_APPS:
        entry = Path(desktop_session.home) / "Desktop" / f"arcdesk-{app['name'].lower()}.desktop"
        assert entry.exists(), f"no desktop icon for {app['name']}"
        fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
        command = fields["Exec"].split()[0]
        assert shutil.which(command, path=env["PATH"]), f"{app['name']}: {command} not on PATH"
        assert icon_file(env, fields["Icon"]), f"{app['name']}: no icon {fields['Icon']!r}"
