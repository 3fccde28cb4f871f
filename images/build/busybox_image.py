#!/usr/bin/env python3
"""A tiny test image: Debian's static busybox as an OCI tarball (localhost/arcdesk/busybox).

    python3 images/build/busybox_image.py     # prints the path of the (cached) tarball

Used by the e2e tier to check the real node (a pod that serves HTTP with `busybox httpd`)
without building the desktop image. Needs the busybox-static Debian package.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oci_layout import cache_dir, write_image_tarball

BUSYBOX = Path("/bin/busybox")


def debian_version() -> str:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "busybox-static"],
                            capture_output=True, text=True)
    if result.returncode != 0 or not BUSYBOX.exists():
        raise SystemExit("busybox-static is not installed (apt-get install busybox-static)")
    return result.stdout.split(":")[-1].split("-")[0]


def build() -> tuple[Path, str]:
    version = debian_version()
    binary = BUSYBOX.read_bytes()
    name = f"localhost/arcdesk/busybox:{version}"
    tarball = cache_dir() / f"busybox-{version}-{hashlib.sha256(binary).hexdigest()[:16]}.tar"
    if not tarball.exists():
        tarball.parent.mkdir(parents=True, exist_ok=True)
        write_image_tarball(tarball, name, files={"bin/busybox": (binary, 0o755)},
                            config={"Entrypoint": ["/bin/busybox"], "User": "65534:65534"})
    return tarball, name


if __name__ == "__main__":
    print("\t".join(map(str, build())))
