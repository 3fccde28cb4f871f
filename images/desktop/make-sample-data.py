"""Write the bioimage sample data beside a profile venv: VENV/share/arcdesk-data/.

Run at image build time (Dockerfile) and by `make desktop-deps`, with the venv's own python:
    VENV/bin/python images/desktop/make-sample-data.py VENV
Every image comes from inside installed wheels (scikit-image ships cell.png and ihc.png) or
is drawn here with a fixed seed; nothing is downloaded. The session runtime copies this folder
to ~/data on first start. The nuclei images are synthetic so that their true counts are known
(nuclei/counts.csv): a segmentation exercise, and the tests, can check a result against them.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import tifffile
import zarr
from ome_zarr.io import parse_url
from ome_zarr.writer import write_image
from skimage import color, data, exposure, filters, measure

NAME = "cell"
NUCLEI_COUNTS = {"nuclei-01.tif": 30, "nuclei-02.tif": 40, "nuclei-03.tif": 50}
NUCLEI_SIZE = 512
IHC_CHANNELS = ["Hematoxylin", "Eosin", "DAB"]


def nuclei_labels(image: np.ndarray) -> np.ndarray:
    """A label image to go with the sample (Otsu threshold + connected components)."""
    mask = image > filters.threshold_otsu(image)
    return measure.label(mask).astype(np.uint16)


def nuclei_image(count: int, seed: int) -> np.ndarray:
    """``count`` blurred round nuclei 18-26 px across, apart from each other, on noise."""
    rng = np.random.default_rng(seed)
    centres: list[tuple[int, int]] = []
    while len(centres) < count:
        y, x = (int(v) for v in rng.integers(30, NUCLEI_SIZE - 30, 2))
        if all((y - a) ** 2 + (x - b) ** 2 > 34**2 for a, b in centres):
            centres.append((y, x))
    yy, xx = np.mgrid[:NUCLEI_SIZE, :NUCLEI_SIZE]
    image = np.zeros((NUCLEI_SIZE, NUCLEI_SIZE))
    for y, x in centres:
        sigma = rng.uniform(9, 13) / 1.6
        image += np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma**2))
    image = filters.gaussian(image, 1) + rng.normal(0, 0.03, image.shape)
    return (np.clip(image / image.max(), 0, 1) * 60000).astype(np.uint16)


def write_nuclei(dest: Path) -> None:
    dest.mkdir()
    for seed, (name, count) in enumerate(NUCLEI_COUNTS.items(), 1):
        tifffile.imwrite(dest / name, nuclei_image(count, seed))
    rows = "".join(f"{name},{count}\n" for name, count in NUCLEI_COUNTS.items())
    (dest / "counts.csv").write_text("image,nuclei\n" + rows)


def write_ihc(path: Path) -> None:
    """scikit-image's immunohistochemistry sample unmixed into three stains: a multichannel
    OME-TIFF (C, Y, X) with named channels, as a microscope's export would be."""
    stains = np.moveaxis(color.rgb2hed(data.immunohistochemistry()), -1, 0)
    channels = [exposure.rescale_intensity(s, out_range=(0, 65535)) for s in stains]
    tifffile.imwrite(
        path, np.stack(channels).astype(np.uint16), ome=True,
        metadata={"axes": "CYX", "Name": "ihc", "Channel": {"Name": IHC_CHANNELS}},
    )


def write_all(dest: Path) -> None:
    image = data.cell()  # 660x550 uint8 microscopy image, shipped inside the wheel
    tifffile.imwrite(dest / f"{NAME}.tif", image)
    tifffile.imwrite(
        dest / f"{NAME}.ome.tif", image, ome=True, metadata={"axes": "YX", "Name": NAME}
    )
    tifffile.imwrite(dest / f"{NAME}-labels.tif", nuclei_labels(image))
    group = zarr.open_group(parse_url(str(dest / f"{NAME}.ome.zarr"), mode="w").store, mode="w")
    write_image(image, group, axes="yx")
    write_nuclei(dest / "nuclei")
    write_ihc(dest / "ihc.ome.tif")
    (dest / "README.txt").write_text(
        f"{NAME}.tif          scikit-image's 'cell' sample (plain TIFF: ImageJ, napari)\n"
        f"{NAME}.ome.tif      the same as OME-TIFF (bioio-ome-tiff, Bio-Formats)\n"
        f"{NAME}.ome.zarr     the same as OME-Zarr (ome-zarr, bioio-ome-zarr, napari)\n"
        f"{NAME}-labels.tif   a label image of it (Otsu threshold)\n"
        "ihc.ome.tif         3-channel OME-TIFF (Hematoxylin, Eosin, DAB) unmixed from\n"
        "                    scikit-image's IHC sample: ImageJ's Bio-Formats Importer, napari\n"
        "nuclei/             three synthetic nuclei images; their true counts in counts.csv\n"
        "count-nuclei.cppipe CellProfiler pipeline counting them:\n"
        "                    cellprofiler -c -r -p count-nuclei.cppipe -i nuclei -o ~/results\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    dest = Path(argv[0]) / "share" / "arcdesk-data"
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    write_all(partial)
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
