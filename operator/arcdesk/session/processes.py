"""Start, watch and stop the session's children, including every process they spawn."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
# Set on every child; inherited by everything they start (D-Bus activated services too), so
# stop() finds processes that left the process group or were orphaned.
SESSION_MARK = "ARCDESK_SESSION_ID"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    exit_code: int | None = None
    oneshot: bool = False  # expected to finish (seeding); its exit does not end the session


def become_subreaper() -> None:
    """Orphans of the session re-parent to us, so we can reap them (tini does the same)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def marked_pids(mark: str) -> list[int]:
    """PIDs of live processes whose environment carries ``SESSION_MARK=mark``."""
    needle = f"{SESSION_MARK}={mark}".encode()
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if needle not in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                continue
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            found.append(int(entry))
    return found


class Supervisor:
    """Owns the children. ``lock`` serialises reaping with short helper commands (xwd, ...)."""

    def __init__(self, log_dir: Path, mark: str) -> None:
        self.log_dir = log_dir
        self.mark = mark
        self.children: list[Child] = []
        self.lock = threading.Lock()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        oneshot: bool = False,
    ) -> Child:
        log = (self.log_dir / f"{name}.log").open("ab")
        with log:
            process = subprocess.Popen(
                list(argv),
                env={**env, SESSION_MARK: self.mark},
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name=name, process=process, oneshot=oneshot)
        self.children.append(child)
        return child

    def run_tool(
        self, argv: Sequence[str], env: Mapping[str, str], timeout: float = 10.0
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a short helper; holding ``lock`` keeps reap() from stealing its exit status."""
        with self.lock:
            return subprocess.run(
                list(argv), env=dict(env), capture_output=True, timeout=timeout, check=False
            )

    def reap(self) -> None:
        """Collect exit statuses of children and of adopted orphans."""
        with self.lock:
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                for child in self.children:
                    if child.process.pid == pid:
                        child.exit_code = os.waitstatus_to_exitcode(status)
                        child.process.returncode = child.exit_code

    def first_dead(self) -> Child | None:
        self.reap()
        return next(
            (c for c in self.children if c.exit_code is not None and not c.oneshot), None
        )

    def stop(self, timeout: float = 4.0) -> None:
        """SIGTERM every child's group and every marked process; SIGKILL what is left."""
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._alive():
            time.sleep(0.05)
            self.reap()
        if self._alive():
            self._signal_all(signal.SIGKILL)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and self._alive():
                time.sleep(0.05)
                self.reap()
        self.reap()

    def _alive(self) -> bool:
        self.reap()
        running = any(c.exit_code is None for c in self.children)
        return running or bool(marked_pids(self.mark))

    def _signal_all(self, sig: signal.Signals) -> None:
        for child in self.children:
            if child.exit_code is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.process.pid, sig)
        for pid in marked_pids(self.mark):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
