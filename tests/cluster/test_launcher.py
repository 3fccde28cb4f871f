"""The devcluster launcher: a second cluster on other ports comes up, and `down` leaves nothing.

Runs its own short-lived cluster in a temporary state directory, so the shared one that the
other cluster tests use is never stopped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from devcluster import kit

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = ["-m", "devcluster.cluster"]  # run from the repository root
PORT_VARIABLES = ("ARCDESK_APISERVER_PORT", "ARCDESK_ETCD_PORT", "ARCDESK_ETCD_PEER_PORT",
                  "ARCDESK_KCM_PORT", "ARCDESK_SCHEDULER_PORT", "ARCDESK_REGISTRY_PORT")


def launcher(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *LAUNCHER, command, *(
        ["--wipe"] if command == "down" else [])], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=300)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def processes_using(state: Path) -> list[str]:
    """Command lines of live processes that mention the temporary state directory."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(state) in argv and "pytest" not in argv:
            found.append(argv)
    return found


def test_second_cluster_up_is_idempotent_and_down_frees_everything(tmp_path: Path) -> None:
    state = tmp_path / "devcluster"
    ports = dict(zip(PORT_VARIABLES, kit.free_ports(len(PORT_VARIABLES)), strict=True))
    env = {**os.environ, "ARCDESK_DEVCLUSTER_DIR": str(state),
           "ARCDESK_ETCD_DIR": str(tmp_path / "etcd"),
           "ARCDESK_REGISTRY_DIR": str(tmp_path / "registry"),
           **{k: str(v) for k, v in ports.items()}}
    left_over = tmp_path / "etcd" / "member" / "from-a-deleted-clone"
    left_over.parent.mkdir(parents=True)
    left_over.write_text("stale")
    try:
        first = launcher("up", env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert not left_over.exists(), "a new clone must not start on an earlier clone's etcd"
        assert "etcd data of an earlier clone" in first.stdout, first.stdout
        assert (state / "kubeconfig").exists()
        again = launcher("up", env)
        assert "already up and healthy" in again.stdout, again.stdout + again.stderr
        status = launcher("status", env)
        assert "nodes: 4, 4 Ready" in status.stdout, status.stdout
    finally:
        down = launcher("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert [port for port in ports.values() if port_open(port)] == []
    assert processes_using(state) == []
    assert not (tmp_path / "etcd").exists(), "down --wipe should delete etcd data"
