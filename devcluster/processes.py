"""Start, find and stop the devcluster's processes (one pid file per component)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def pid_file(pids_dir: Path, name: str) -> Path:
    return pids_dir / f"{name}.pid"


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def running_pid(pids_dir: Path, name: str) -> int | None:
    """The pid recorded for ``name`` if that process still runs as ``name``.

    Checking argv[0] guards against a recycled pid belonging to something else.
    """
    try:
        pid = int(pid_file(pids_dir, name).read_text())
    except (OSError, ValueError):
        return None
    argv = command_line(pid)
    if argv and Path(argv[0]).name == name and not is_zombie(pid):
        return pid
    return None


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def start(name: str, command: list[str], logs_dir: Path, pids_dir: Path) -> int:
    """Start ``command`` detached in its own session; its output goes to logs/<name>.log."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    pids_dir.mkdir(parents=True, exist_ok=True)
    with open(logs_dir / f"{name}.log", "ab") as log:
        log.write(f"\n==== {time.strftime('%F %T')} {' '.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    pid_file(pids_dir, name).write_text(f"{process.pid}\n")
    return process.pid


def stop(pids_dir: Path, name: str, grace_seconds: float = 10) -> bool:
    """SIGTERM the component's process group, SIGKILL it after the grace period."""
    pid = running_pid(pids_dir, name)
    pid_file(pids_dir, name).unlink(missing_ok=True)
    if pid is None:
        return False
    signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        signal_group(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.05)
    return True


def signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie; reaps our own children."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    return Path(f"/proc/{pid}").exists() and not is_zombie(pid)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
