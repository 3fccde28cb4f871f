#!/usr/bin/env python3
"""Write the sample CellProfiler pipeline ``count-nuclei.cppipe``, with CellProfiler's own API.

Run at image build time (Dockerfile) and by `make desktop-deps`, with CellProfiler's python:
    CP_VENV/bin/python images/desktop/make-cellprofiler-pipeline.py OUT.cppipe
Built through the API rather than kept as text, so the file always matches the installed
CellProfiler's module versions. The pipeline: every image of the input folder is "DNA";
IdentifyPrimaryObjects finds "Nuclei" 10-40 px across (Otsu); ExportToSpreadsheet writes
nuclei_Image.csv (Count_Nuclei per image) and nuclei_Nuclei.csv into the output folder.
Headless: cellprofiler -c -r -p count-nuclei.cppipe -i ~/data/nuclei -o ~/results
"""

from __future__ import annotations

import sys

import cellprofiler_core.preferences as preferences

preferences.set_headless()

from cellprofiler.modules.exporttospreadsheet import ExportToSpreadsheet  # noqa: E402
from cellprofiler.modules.identifyprimaryobjects import IdentifyPrimaryObjects  # noqa: E402
from cellprofiler_core.modules.groups import Groups  # noqa: E402
from cellprofiler_core.modules.images import Images  # noqa: E402
from cellprofiler_core.modules.metadata import Metadata  # noqa: E402
from cellprofiler_core.modules.namesandtypes import NamesAndTypes  # noqa: E402
from cellprofiler_core.pipeline import Pipeline  # noqa: E402


def nuclei_pipeline() -> Pipeline:
    identify = IdentifyPrimaryObjects()
    identify.x_name.value, identify.y_name.value = "DNA", "Nuclei"
    identify.size_range.value = (10, 40)
    export = ExportToSpreadsheet()
    export.wants_prefix.value, export.prefix.value = True, "nuclei_"
    export.wants_overwrite_without_warning.value = True
    pipeline = Pipeline()
    for number, module in enumerate(
        [Images(), Metadata(), NamesAndTypes(), Groups(), identify, export], 1
    ):
        module.set_module_num(number)
        pipeline.add_module(module)
    return pipeline


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], "w") as out:
        nuclei_pipeline().dump(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
