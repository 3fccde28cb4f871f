"""Push a locally built OCI archive to the devcluster's registry; print its digest reference.

    python3 -m devcluster.registry push ARCHIVE REPOSITORY:TAG
        # prints 127.0.0.1:5000/REPOSITORY@sha256:...

The registry (CNCF distribution, built from Go modules by build.sh) is a devcluster
component on loopback; the real node's containerd pulls from it through a hosts.toml
(node_config.registry_hosts_toml). skopeo (Debian) copies the archive: blobs the registry
already holds are not sent again, so a re-push of an unchanged image costs a manifest.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from devcluster.checks import DevclusterError
from devcluster.components import Layout
from devcluster.kit import url_ok

SKOPEO = "/usr/bin/skopeo"


def push(layout: Layout, archive: Path, repository_tag: str) -> str:
    """Copy ``archive`` to <registry>/<repository:tag>; return <registry>/<repository>@<digest>."""
    if not Path(SKOPEO).exists():
        raise DevclusterError(f"{SKOPEO} is missing: run `make image-deps` (apt: skopeo)")
    if not url_ok(f"{layout.registry_url}/v2/"):
        raise DevclusterError(
            f"no registry answers at {layout.registry_url}: run `make cluster-up`")
    destination = f"{layout.registry_host}/{repository_tag}"
    with tempfile.TemporaryDirectory() as scratch:
        digest_file = Path(scratch) / "digest"
        copied = subprocess.run(
            [SKOPEO, "copy", "--quiet", "--dest-tls-verify=false",
             "--digestfile", str(digest_file), f"oci-archive:{archive}", f"docker://{destination}"],
            capture_output=True, text=True, timeout=1800)
        if copied.returncode != 0:
            raise DevclusterError(f"skopeo copy to {destination} failed: {copied.stderr.strip()}")
        digest = digest_file.read_text().strip()
    repository = repository_tag.rsplit(":", 1)[0]
    return f"{layout.registry_host}/{repository}@{digest}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m devcluster.registry")
    parser.add_argument("command", choices=["push"])
    parser.add_argument("archive", type=Path, help="an OCI archive (images/build/*.py print one)")
    parser.add_argument("name", help="REPOSITORY:TAG in the registry, e.g. arcdesk/busybox:1")
    args = parser.parse_args()
    try:
        print(push(Layout.from_environment(), args.archive, args.name))
    except DevclusterError as error:
        print(f"devcluster.registry: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
