"""The noVNC the gateway serves: ``@novnc/novnc`` from the npm registry, pinned by version
and sha512, installed beside the arcdesk package (``arcdesk gateway install-novnc``).

Why npm and not Debian's ``novnc``: the gateway serves only noVNC's core library (``core/``,
``vendor/``) to its own page, and the npm release is current (Debian bookworm has 1.3.0
from 2021), a 155 KB tarball with a published checksum, the same on any OS — so a pip
install, the unit tier and the gateway image need no OS package for it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

VERSION = "1.7.0"
# The registry's own `dist.integrity` of the tarball (npm view @novnc/novnc@1.7.0).
INTEGRITY = ("sha512-ucEJOx4T2avIRCleodk7YobZj5O2Ga2AeLfQ69A/yjG9HHba2+PDgwSkN3FttrmG+70ZG"
             "x21sElNFouK13RzyA==")
REGISTRY = "https://registry.npmjs.org"
ENTRY = PurePosixPath("core/rfb.js")  # what the gateway's page imports


class NoVncInstallError(RuntimeError):
    """The tarball could not be fetched, or is not the one pinned here."""


def default_dir() -> Path:
    """Where the gateway looks by default: the Python environment arcdesk is installed in."""
    return Path(sys.prefix) / "share" / "arcdesk" / f"novnc-{VERSION}"


def tarball_url(registry: str = REGISTRY) -> str:
    return f"{registry.rstrip('/')}/@novnc/novnc/-/novnc-{VERSION}.tgz"


def integrity_of(data: bytes) -> str:
    """The npm ``integrity`` string (Subresource Integrity, sha512) of ``data``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def installed(dest: Path) -> bool:
    """``dest`` holds the pinned release, unpacked whole (the marker is written last)."""
    marker = dest / ".integrity"
    return (dest / ENTRY).is_file() and marker.is_file() \
        and marker.read_text().strip() == INTEGRITY


def package_members(archive: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, PurePosixPath]]:
    """The regular files under ``package/``, with their paths below it; a link, a device or
    a path that climbs out of the package is refused, not skipped."""
    for member in archive.getmembers():
        path = PurePosixPath(member.name)
        if member.isdir():
            continue
        if not member.isfile() or path.is_absolute() or ".." in path.parts \
                or path.parts[:1] != ("package",) or len(path.parts) < 2:
            raise NoVncInstallError(f"unexpected entry {member.name!r} in the noVNC tarball")
        yield member, PurePosixPath(*path.parts[1:])


def fetch(url: str, cache: Path, timeout: float = 60) -> bytes:
    """The pinned tarball: from ``cache`` when it holds the right bytes, else downloaded
    (and cached). A download with the wrong checksum is never kept."""
    if cache.is_file() and integrity_of(data := cache.read_bytes()) == INTEGRITY:
        return data
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = bytes(response.read())  # 155 KB: no need to stream
    except OSError as error:
        raise NoVncInstallError(f"cannot download {url}: {error}") from error
    if (got := integrity_of(data)) != INTEGRITY:
        raise NoVncInstallError(f"{url} has integrity {got}, expected {INTEGRITY}: "
                                "not the pinned noVNC release")
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(cache)
    return data


def unpack(data: bytes, dest: Path) -> None:
    """Unpack into a sibling folder, then move it into place: never a half-written ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member, relative in package_members(archive):
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None  # a regular file always has content
                with source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
        (staging / ".integrity").write_text(INTEGRITY + "\n")
        staging.chmod(0o755)  # mkdtemp makes it 0700: a gateway running as another user reads it
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install(dest: Path, registry: str = REGISTRY, cache_dir: Path | None = None) -> bool:
    """Make ``dest`` hold the pinned noVNC; False when it already did."""
    if installed(dest):
        return False
    cache = (cache_dir or Path.home() / ".cache" / "arcdesk" / "downloads")
    data = fetch(tarball_url(registry), cache / f"novnc-{VERSION}.tgz")
    unpack(data, dest)
    return True

