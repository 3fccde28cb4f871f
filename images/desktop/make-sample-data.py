"""Write the bioimage sample data beside a profile venv: VENV/share/arcdesk-data/.

Run at image build time (Dockerfile) and by `make desktop-deps`, with the venv's own python:
    VENV/bin/python images/desktop/make-sample-data.py VENV
Every image comes from inside installed wheels (scikit-image ships cell.png); nothing is
downloaded. The session runtime copies this folder to ~/data on first start.
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
from skimage import data, filters, measure

NAME = "cell"


def nuclei_labels(image: np.ndarray) -> np.ndarray:
    """A label image to go with the sample (Otsu threshold + connected components)."""
    mask = image > filters.threshold_otsu(image)
    return measure.label(mask).astype(np.uint16)


def write_all(dest: Path) -> None:
    image = data.cell()  # 660x550 uint8 microscopy image, shipped inside the wheel
    tifffile.imwrite(dest / f"{NAME}.tif", image)
    tifffile.imwrite(
        dest / f"{NAME}.ome.tif", image, ome=True, metadata={"axes": "YX", "Name": NAME}
    )
    tifffile.imwrite(dest / f"{NAME}-labels.tif", nuclei_labels(image))
    group = zarr.open_group(parse_url(str(dest / f"{NAME}.ome.zarr"), mode="w").store, mode="w")
    write_image(image, group, axes="yx")
    (dest / "README.txt").write_text(
        f"{NAME}.tif          scikit-image's 'cell' sample (plain TIFF: ImageJ, napari)\n"
        f"{NAME}.ome.tif      the same as OME-TIFF (bioio-ome-tiff, Bio-Formats)\n"
        f"{NAME}.ome.zarr     the same as OME-Zarr (ome-zarr, bioio-ome-zarr, napari)\n"
        f"{NAME}-labels.tif   a label image of it (Otsu threshold)\n"
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
