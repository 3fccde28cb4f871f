"""First-start seeding of the trainee's home: skeleton files, desktop icons, course materials
(git + git-lfs), the per-trainee ARC (ARCtrl) and sample data.

Idempotent and never overwriting: every item goes to a temporary name and is renamed into
place only when complete; an item already seeded once is recorded in ``~/.local/state`` and
never seeded again, so a trainee who deletes it keeps it deleted.

Runs as its own process (``python -m arcdesk.session.seed`` with the runtime's argv and
environment) so its git and python children are not reaped by the runtime's subreaper loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

from arcdesk.session import config as session_config
from arcdesk.session.config import ARC_PROFILES, Material, SessionConfig
from arcdesk.session.desktop import launcher, launcher_name

STATE_FILE = Path(".local/state/arcdesk/seeded.json")
# Profile chain: each profile's skeleton includes the ones before it (as the image layers do).
PROFILE_CHAIN = {"base": ("base",), "arc": ("base", "arc"), "bioimage": ("base", "arc", "bioimage")}
# git-lfs filters passed on the command line: cloning works whether or not
# `git lfs install` ran system-wide.
LFS_CONFIG = (
    "-c", "filter.lfs.smudge=git-lfs smudge -- %f",
    "-c", "filter.lfs.process=git-lfs filter-process",
    "-c", "filter.lfs.required=true",
    "-c", "filter.lfs.clean=git-lfs clean -- %f",
)


# A materials server that accepts the connection and then says nothing must not hold the
# seeding (and the trainee's materials folder) forever: an HTTP transfer slower than
# 1 kB/s for STALL_SECONDS is abandoned, and any clone step is stopped after STEP_TIMEOUT.
STALL_SECONDS = 30
STEP_TIMEOUT = 600.0


class SeedError(RuntimeError):
    """One seeding step failed; the others still run."""


def sample_data_dir(arc_python: Path) -> Path:
    """Sample data written at build time beside the profile venv (see make-sample-data.py)."""
    return arc_python.parent.parent / "share" / "arcdesk-data"


def arc_dir(config: SessionConfig) -> Path:
    return config.home / "ARCs" / config.course


def copy_missing(src: Path, dest: Path) -> None:
    """Copy the tree ``src`` into ``dest`` file by file, leaving existing files alone."""
    for root, _dirs, files in os.walk(src):
        target = dest / Path(root).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            if not (target / name).exists():
                shutil.copy2(Path(root) / name, target / name)


def _command(argv: Sequence[str]) -> str:
    """The command's first words for a message, its ``-c key=value`` options left out."""
    words = [a for i, a in enumerate(argv) if a != "-c" and (i == 0 or argv[i - 1] != "-c")]
    return " ".join(words[:3])


def _run(argv: Sequence[str], env: Mapping[str, str], cwd: Path,
         timeout: float | None = None) -> None:
    try:
        result = subprocess.run(list(argv), env=dict(env), cwd=cwd, capture_output=True,
                                text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        raise SeedError(f"{_command(argv)} ... gave no result within {timeout:.0f} s"
                        ) from expired
    if result.returncode != 0:
        raise SeedError(f"{_command(argv)} ... failed: {result.stderr.strip()[-500:]}")


def _into_place(final: Path, build: Callable[[Path], None]) -> None:
    """Build at a temporary sibling and rename: a crash never leaves a half item in place."""
    partial = final.with_name(f".{final.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    build(partial)
    if final.exists():  # appeared meanwhile (trainee's own): theirs wins
        shutil.rmtree(partial, ignore_errors=True)
        return
    partial.rename(final)


def git_env(config: SessionConfig, base: Mapping[str, str]) -> dict[str, str]:
    return {**base, "HOME": str(config.home), "GIT_TERMINAL_PROMPT": "0"}


def clone_material(material: Material, dest: Path, env: Mapping[str, str]) -> None:
    """Clone with LFS content checked out; ``ref`` may be a branch, a tag or a commit."""

    stall = ("-c", "http.lowSpeedLimit=1000", "-c", f"http.lowSpeedTime={STALL_SECONDS}")
    git = ["git", *stall, *LFS_CONFIG]

    def build(path: Path) -> None:
        _run([*git, "clone", "-q", "--", material.url, str(path)], env, dest.parent,
             STEP_TIMEOUT)
        if material.ref != "HEAD":  # a remote branch name, a tag or a commit
            _run([*git, "checkout", "-q", material.ref], env, path, STEP_TIMEOUT)
        _run(["git", "lfs", "install", "--local"], env, path)  # later pulls fetch LFS content

    _into_place(dest, build)


def scaffold_arc(config: SessionConfig, env: Mapping[str, str]) -> None:
    script = Path(__file__).with_name("arc_scaffold.py")

    def build(path: Path) -> None:
        _run([str(config.arc_python), str(script), str(path), "--identifier", config.course,
              "--title", config.course_title, "--owner", config.trainee], env, config.home)
        _run(["git", "init", "-q", "-b", "main"], env, path)
        # Commits in the ARC carry the trainee's name out of the box (this repository's own
        # config: a trainee's ~/.gitconfig stays theirs, and wins elsewhere).
        for key, value in arc_identity(config).items():
            _run(["git", "config", key, value], env, path)

    _into_place(arc_dir(config), build)


def arc_identity(config: SessionConfig) -> dict[str, str]:
    """git's user.name/user.email for the trainee's ARC; the address is per seat and never
    routable (.invalid), so no mail leaves a course by accident."""
    return {"user.name": config.trainee or config.seat,
            "user.email": f"{config.seat}@{config.course}.arcdesk.invalid"}


def launchers(config: SessionConfig) -> None:
    """Desktop icons for the profile's apps (the menu entries live outside the home)."""
    desktop = config.home / "Desktop"
    desktop.mkdir(parents=True, exist_ok=True)
    for app in config.apps:
        path = desktop / f"{launcher_name(app)}.desktop"
        if not path.exists():
            path.write_text(launcher(app))
            path.chmod(0o755)  # xfdesktop only runs executable launchers


def steps(config: SessionConfig, env: Mapping[str, str]) -> dict[str, Callable[[], None]]:
    """Every seeding step of this profile, keyed by what the state file records."""
    todo: dict[str, Callable[[], None]] = {}
    for profile in PROFILE_CHAIN[config.profile]:
        skel = config.skel_dir / profile
        if skel.is_dir():
            todo[f"skel/{profile}"] = partial(copy_missing, skel, config.home)
    todo["launchers"] = partial(launchers, config)
    for m in config.materials:
        dest = config.home / "materials" / m.name
        todo[f"materials/{m.name}"] = partial(clone_material, m, dest, env)
    if config.profile in ARC_PROFILES:
        todo[f"arc/{config.course}"] = partial(scaffold_arc, config, env)
    data = sample_data_dir(config.arc_python)
    if config.profile == "bioimage" and data.is_dir():
        todo["data"] = partial(copy_missing, data, config.home / "data")
    return todo


def load_state(home: Path) -> set[str]:
    with contextlib.suppress(FileNotFoundError, ValueError):
        return set(json.loads((home / STATE_FILE).read_text()))
    return set()


def save_state(home: Path, done: set[str]) -> None:
    path = home / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(done), indent=1) + "\n")
    tmp.replace(path)


def seed(config: SessionConfig, base_env: Mapping[str, str]) -> list[str]:
    """Run every step not seeded before; return error messages of the steps that failed."""
    done = load_state(config.home)
    env = git_env(config, base_env)
    errors: list[str] = []
    for key, step in steps(config, env).items():
        if key in done:
            continue
        try:
            step()
        except (SeedError, OSError) as err:
            errors.append(f"{key}: {err}")
            continue
        done.add(key)
        save_state(config.home, done)
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    config = session_config.from_args(sys.argv[1:] if argv is None else argv, os.environ)
    errors = seed(config, os.environ)
    for message in errors:
        print(f"arcdesk-session: seeding {message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
