"""The gateway's noVNC: fetched from the npm registry only when it is the pinned release,
unpacked whole or not at all, and never outside its folder."""

from __future__ import annotations

import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from arcdesk.gateway import novnc


def _tarball(entries: dict[str, bytes], link: str | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    return out.getvalue()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback HTTP server answering with whatever bytes the test puts at a path."""
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def test_make_setup_installed_the_pinned_release_where_the_gateway_looks() -> None:
    assert novnc.installed(novnc.default_dir()), \
        f"no pinned noVNC in {novnc.default_dir()}: run `make setup`"
    rfb = (novnc.default_dir() / novnc.ENTRY).read_text()
    assert "export default class RFB" in rfb


def test_a_tarball_that_is_not_the_pinned_one_is_refused_and_not_cached(
        registry: tuple[str, dict[str, bytes]], tmp_path: Path) -> None:
    url, served = registry
    path = f"/@novnc/novnc/-/novnc-{novnc.VERSION}.tgz"
    served[path] = _tarball({"package/core/rfb.js": b"export default class RFB {}"})
    with pytest.raises(novnc.NoVncInstallError, match="not the pinned noVNC release"):
        novnc.install(tmp_path / "novnc", url, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "novnc").exists()
    assert not (tmp_path / "cache").exists(), "a refused download was cached"


def test_an_unreachable_registry_is_named(tmp_path: Path,
                                          registry: tuple[str, dict[str, bytes]]) -> None:
    url, _ = registry  # serves nothing: 404
    with pytest.raises(novnc.NoVncInstallError, match=r"cannot download http://127\.0\.0\.1"):
        novnc.install(tmp_path / "novnc", url, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("entries, link", [
    ({"package/../escape.js": b"x"}, None),
    ({"/etc/cron.d/x": b"x"}, None),
    ({"elsewhere/core/rfb.js": b"x"}, None),
    ({"package/core/rfb.js": b"x"}, "package/core/link.js"),
])
def test_unpack_refuses_entries_outside_the_package(
        entries: dict[str, bytes], link: str | None, tmp_path: Path) -> None:
    with pytest.raises(novnc.NoVncInstallError, match="unexpected entry"):
        novnc.unpack(_tarball(entries, link), tmp_path / "novnc")
    assert not (tmp_path / "novnc").exists()
    assert list(tmp_path.iterdir()) == [], "a half-unpacked staging folder was left behind"


def test_unpack_replaces_an_older_folder_whole(tmp_path: Path) -> None:
    dest = tmp_path / "novnc"
    (dest / "core").mkdir(parents=True)
    (dest / "core" / "stale.js").write_text("old")
    novnc.unpack(_tarball({"package/core/rfb.js": b"new"}), dest)
    assert sorted(p.name for p in (dest / "core").iterdir()) == ["rfb.js"]
    assert novnc.installed(dest)


def test_unpacked_files_are_readable_by_a_gateway_running_as_another_user(
        tmp_path: Path) -> None:
    dest = tmp_path / "novnc"
    novnc.unpack(_tarball({"package/core/rfb.js": b"x"}), dest)
    for path in (dest, dest / "core", dest / "core" / "rfb.js"):
        assert path.stat().st_mode & 0o005 in (0o004, 0o005), f"{path} not world-readable"
