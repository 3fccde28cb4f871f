#!/usr/bin/env python3
"""Build the pause image from Kubernetes' own pause.c, as an OCI image tarball.

    python3 images/pause/build.py        # prints the path of the (cached) tarball

pause.c comes from the k8s.io/kubernetes Go module at the devcluster's pinned version
(`go mod download`), is compiled with `gcc -static` like upstream's Makefile does, and is
packed into a one-layer OCI image layout that `ctr images import` reads. No registry, no
Docker. The tarball is cached in ~/.cache/arcdesk/images/, keyed by the source's hash.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "build"))
from oci_layout import cache_dir, write_image_tarball  # noqa: E402

PAUSE_TAG = "3.10.1"  # build/pause/Makefile's TAG at Kubernetes v1.34.4
IMAGE_NAME = f"localhost/arcdesk/pause:{PAUSE_TAG}"
VERSIONS_FILE = HERE.parent.parent / "devcluster" / "versions.env"


def kubernetes_version() -> str:
    for line in VERSIONS_FILE.read_text().splitlines():
        if line.startswith("K8S_VERSION="):
            return line.split("=", 1)[1].strip()
    raise SystemExit(f"K8S_VERSION missing in {VERSIONS_FILE}")


def pause_source() -> Path:
    """pause.c of the pinned Kubernetes, from the Go module cache (downloads once)."""
    module = f"k8s.io/kubernetes@{kubernetes_version()}"
    result = subprocess.run(["go", "mod", "download", "-json", module],
                            capture_output=True, text=True, cwd=tempfile.gettempdir())
    if result.returncode != 0:
        raise SystemExit(f"go mod download {module} failed (needs Go):\n{result.stderr}")
    return Path(json.loads(result.stdout)["Dir"]) / "build" / "pause" / "linux" / "pause.c"


def compile_pause(source: Path, output: Path) -> None:
    subprocess.run(["gcc", "-Os", "-Wall", "-Werror", "-static",
                    f"-DVERSION=v{PAUSE_TAG}-arcdesk", "-o", str(output), str(source)],
                   check=True)
    subprocess.run(["strip", str(output)], check=True)


def build() -> Path:
    source = pause_source()
    digest = hashlib.sha256(source.read_bytes() + PAUSE_TAG.encode()).hexdigest()[:16]
    tarball = cache_dir() / f"pause-{PAUSE_TAG}-{digest}.tar"
    if tarball.exists():
        return tarball
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        binary = Path(scratch) / "pause"
        compile_pause(source, binary)
        write_image_tarball(
            tarball, IMAGE_NAME, files={"pause": (binary.read_bytes(), 0o755)},
            config={"User": "65535:65535", "Entrypoint": ["/pause"]})
    return tarball


if __name__ == "__main__":
    print(build())
