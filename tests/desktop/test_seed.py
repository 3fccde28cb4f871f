"""First start seeds the home (materials with git-lfs, the trainee ARC, sample data); the
second start of the same home changes nothing, and trainee files are never overwritten."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from arcdesk.session import seed
from arcdesk.session.config import Material
from devcluster import desktops

LFS_PAYLOAD = bytes(range(256)) * 400  # 100 KiB: stored in LFS, not in git
MY_TERMINAL = "[Desktop Entry]\nType=Application\nName=My own terminal\nExec=xterm\n"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_lfs_remote(root: Path) -> str:
    """A local bare repository whose ``course`` branch holds an LFS-tracked file."""
    work, bare = root / "work", root / "course-materials.git"
    git(root, "init", "-q", "-b", "course", str(work))
    git(work, "config", "user.email", "instructor@example.org")
    git(work, "config", "user.name", "Instructor")
    git(work, "lfs", "install", "--local")
    git(work, "lfs", "track", "*.bin")
    (work / "images.bin").write_bytes(LFS_PAYLOAD)
    (work / "README.md").write_text("# Course materials\n")
    git(work, "add", ".")
    git(work, "commit", "-qm", "materials")
    git(root, "init", "-q", "--bare", "-b", "course", str(bare))
    git(work, "push", "-q", bare.as_uri(), "course")
    return bare.as_uri()


def snapshot(home: Path) -> dict[str, str]:
    """Every file under ``home`` (runtime caches aside) with a hash of its content and mode."""
    volatile = (".cache", ".config", ".local/share", ".ICEauthority", ".dbus")
    found = {}
    for root, _dirs, files in os.walk(home):
        for name in files:
            path = Path(root) / name
            rel = str(path.relative_to(home))
            if rel.startswith(volatile) or path.is_symlink():
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[rel] = f"{digest}:{oct(path.stat().st_mode)}:{path.stat().st_mtime_ns}"
    return found


@dataclass
class SeededHome:
    home: Path
    first: dict[str, str]
    second: dict[str, str]
    states: tuple[str, str]


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededHome]:
    base = tmp_path_factory.mktemp("seed")
    materials = [{"git": {"url": make_lfs_remote(base), "ref": "course"}}]
    home = base / "home"
    (home / "Desktop").mkdir(parents=True)
    (home / "Desktop" / "arcdesk-terminal.desktop").write_text(MY_TERMINAL)
    states, shots = [], []
    for run in ("first", "second"):
        with desktops.running_session(base / run, home=home, materials=materials) as session:
            states.append(session.wait_seeded())
        shots.append(snapshot(home))
    yield SeededHome(home, shots[0], shots[1], (states[0], states[1]))


def test_seeding_succeeds_on_both_starts(seeded_home: SeededHome) -> None:
    assert seeded_home.states == ("done", "done")


def test_materials_are_cloned_with_lfs_content(seeded_home: SeededHome) -> None:
    clone = seeded_home.home / "materials" / "course-materials"
    assert (clone / "README.md").read_text() == "# Course materials\n"
    assert (clone / "images.bin").read_bytes() == LFS_PAYLOAD, "LFS pointer, not the content"
    branch = subprocess.run(["git", "branch", "--show-current"], cwd=clone, check=True,
                            capture_output=True, text=True).stdout.strip()
    assert branch == "course"


def test_seeded_arc_loads_with_arctrl(seeded_home: SeededHome) -> None:
    arc = seeded_home.home / "ARCs" / desktops.COURSE
    for part in ("isa.investigation.xlsx", "studies", "assays", "workflows", "runs"):
        assert (arc / part).exists(), f"ARC v2 layout: {part} missing"
    assert (arc / ".git").is_dir(), "the ARC is a git repository"
    check = (
        "import sys; from arctrl import ARC\n"
        "a = ARC.load(sys.argv[1])\n"
        "assert a.Title == sys.argv[2], a.Title\n"
        "assert a.Identifier == sys.argv[3], a.Identifier\n"
        "assert list(a.StudyIdentifiers) and list(a.AssayIdentifiers)\n"
        "for s in a.StudyIdentifiers: assert (a.GetStudy(s).Identifier == s)\n"
        "print(','.join(p.FirstName for p in a.Contacts))\n"
    )
    result = subprocess.run(
        [str(desktops.desktop_venv() / "bin" / "python"), "-c", check, str(arc),
         desktops.COURSE_TITLE, desktops.COURSE],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == desktops.TRAINEE


def test_sample_data_is_seeded(seeded_home: SeededHome) -> None:
    data = seeded_home.home / "data"
    for name in ("cell.tif", "cell.ome.tif", "cell.ome.zarr", "ihc.ome.tif", "README.txt",
                 "nuclei/nuclei-01.tif", "nuclei/counts.csv", "count-nuclei.cppipe"):
        assert (data / name).exists(), name


def test_second_start_changes_nothing(seeded_home: SeededHome) -> None:
    assert seeded_home.first == seeded_home.second


def test_trainee_files_are_never_overwritten(seeded_home: SeededHome) -> None:
    mine = seeded_home.home / "Desktop" / "arcdesk-terminal.desktop"
    assert mine.read_text() == MY_TERMINAL
    assert (seeded_home.home / "Desktop" / "arcdesk-napari.desktop").exists()


def test_a_materials_server_that_never_answers_fails_the_step_in_bounded_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real git clone against a loopback HTTP server that accepts and then stays silent
    (a hung proxy or a firewall that swallows replies): the step fails, saying where it
    stalled, after the stall limit (lowered here from 30 s), and leaves no half clone."""
    monkeypatch.setattr(seed, "STALL_SECONDS", 2)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/course.git"
        material = Material(url=url, ref="main", name="course")
        started = time.monotonic()
        with pytest.raises(seed.SeedError) as failure:
            seed.clone_material(material, tmp_path / "materials" / "course",
                                {**os.environ, "HOME": str(tmp_path),
                                 "GIT_TERMINAL_PROMPT": "0"})
        took = time.monotonic() - started
    assert 2 <= took < 20, f"the stalled clone took {took:.1f} s"
    assert str(failure.value).startswith("git clone -q ... failed:"), failure.value
    assert url in str(failure.value)
    assert list((tmp_path / "materials").iterdir()) == []
