#!/usr/bin/env python3
"""CellProfiler 5 without the network: its JVM gets the local Bio-Formats jar.

CellProfiler asks scyjava for the Maven endpoint ``ome:formats-gpl``, which jgo would resolve
from OME's repository at every first start; here the jar that ImageJ uses is put on the
classpath instead (ARCDESK_BIOFORMATS_JAR) and the endpoints are dropped. Installed by
install-cellprofiler.sh as CP_VENV/bin/cellprofiler-offline; arguments are CellProfiler's.

ExportToDatabase needs the MySQL client, which is not installed (packages/cellprofiler.pip):
CellProfiler's traceback for that one module is dropped, every other load failure still shows.
"""

import logging
import os
import sys

import scyjava


class WithoutExportToDatabase(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "exporttodatabase" not in record.getMessage()


logging.getLogger("cellprofiler_core.utilities.core.modules").addFilter(WithoutExportToDatabase())

_start_jvm = scyjava.start_jvm


def start_jvm_offline(*args, **kwargs):  # type: ignore[no-untyped-def]
    jar = os.environ["ARCDESK_BIOFORMATS_JAR"]
    if not os.path.isfile(jar):
        raise SystemExit(f"cellprofiler: Bio-Formats jar {jar} is missing (install-imagej.py)")
    scyjava.config.endpoints.clear()
    scyjava.config.add_classpath(jar)
    return _start_jvm(*args, **kwargs)


scyjava.start_jvm = start_jvm_offline

from cellprofiler.__main__ import main  # noqa: E402  (after the patch it must see)

sys.exit(main())
