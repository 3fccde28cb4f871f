"""Where the data files live: inside the installed package, or in the source tree."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

_PACKAGE = Path(__file__).resolve().parents[1]  # arcdesk/
_REPO = _PACKAGE.parents[1]
_CHART = _REPO / "charts" / "arcdesk"
_SOURCE_LAYOUT = {"templates": _REPO / "templates", "crds": _CHART / "crds",
                  "profile_specs": _CHART / "files" / "profiles"}


def data_dir(name: str) -> Path:
    """The ``templates``, ``crds`` or ``profile_specs`` folder, packaged (wheel) or in the
    repository."""
    packaged = _PACKAGE / name
    return packaged if packaged.is_dir() else _SOURCE_LAYOUT[name]


def crd_files() -> list[Path]:
    """The CRD manifests, sorted by name."""
    return sorted(data_dir("crds").glob("*.yaml"))


@cache
def crd_schema(kind: str) -> dict[str, Any]:
    """The openAPIV3Schema of ``kind`` from the CRD file, the single source of truth."""
    for path in crd_files():
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            return schema
    raise LookupError(f"no CRD for kind {kind!r} in {data_dir('crds')}")
