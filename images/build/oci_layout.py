"""Write a single-layer OCI image layout as a tarball that `ctr images import` accepts.

Reproducible: fixed mtimes and owners, so the same files give the same digests.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def cache_dir() -> Path:
    """~/.cache/arcdesk/images (ARCDESK_CACHE or XDG_CACHE_HOME move it)."""
    root = os.environ.get("ARCDESK_CACHE") or \
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "arcdesk"
    return Path(root) / "images"


def layer_bytes(files: dict[str, tuple[bytes, int]]) -> bytes:
    """An uncompressed layer tar: path -> (content, mode), owned by root, mtime 0."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as layer:
        for path, (content, mode) in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), mode, 0
            layer.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def descriptor(media_type: str, blob: bytes, **extra: object) -> dict:
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
            "size": len(blob), **extra}


def canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def write_image_tarball(path: Path, name: str, files: dict[str, tuple[bytes, int]],
                        config: dict) -> None:
    """OCI layout (oci-layout, index.json, blobs/) for one linux/amd64 image named ``name``."""
    layer = layer_bytes(files)
    image_config = canonical({
        "architecture": "amd64", "os": "linux", "config": config,
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    })
    manifest = canonical({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": descriptor(CONFIG_TYPE, image_config),
        "layers": [descriptor(LAYER_TYPE, layer)],
    })
    index = canonical({"schemaVersion": 2, "manifests": [descriptor(
        MANIFEST_TYPE, manifest, platform={"architecture": "amd64", "os": "linux"},
        annotations={"io.containerd.image.name": name,
                     "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]})]})
    entries = {"oci-layout": canonical({"imageLayoutVersion": "1.0.0"}), "index.json": index}
    for blob in (layer, image_config, manifest):
        entries["blobs/sha256/" + hashlib.sha256(blob).hexdigest()] = blob
    partial = path.with_suffix(".partial")
    with tarfile.open(partial, "w") as archive:
        for entry, blob in entries.items():
            info = tarfile.TarInfo(entry)
            info.size, info.mode, info.mtime = len(blob), 0o644, 0
            archive.addfile(info, io.BytesIO(blob))
    partial.rename(path)
