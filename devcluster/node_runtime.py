"""containerd for the real node: start it, import local images, and clean up after it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

from devcluster import processes
from devcluster.node_layout import SNAPSHOTTER, NodeLayout


def containerd_command(node: NodeLayout) -> list[str]:
    return ["/usr/bin/containerd", f"--config={node.containerd_config}"]


def ctr(node: NodeLayout, *args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        ["ctr", f"--address={node.containerd_socket}", "--namespace=k8s.io", *args],
        capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"ctr {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def containerd_ready(node: NodeLayout) -> bool:
    if not node.containerd_socket.exists():
        return False
    try:
        ctr(node, "version", timeout=5)
    except (RuntimeError, subprocess.TimeoutExpired):
        return False
    return True


def image_names(node: NodeLayout) -> set[str]:
    return set(ctr(node, "images", "list", "--quiet").split())


def import_image(node: NodeLayout, tarball: Path) -> None:
    """Import an OCI or docker-archive tarball into the k8s.io namespace, unpacked."""
    ctr(node, "images", "import", f"--snapshotter={SNAPSHOTTER}", str(tarball))


def ensure_image(node: NodeLayout, tarball: Path, name: str, aliases: list[str]) -> bool:
    """Import ``tarball`` (which holds ``name``) unless present; point ``aliases`` at it."""
    imported = name not in image_names(node)
    if imported:
        import_image(node, tarball)
    for alias in aliases:
        ctr(node, "images", "tag", "--force", name, alias)
    repository = name.rsplit(":", 1)[0]
    older = [image for image in image_names(node) if image != name
             and re.fullmatch(re.escape(repository) + r":[0-9a-f]{16}", image)]
    if older:  # earlier builds (content-key tags); running containers keep what they use
        ctr(node, "images", "remove", *older)
    return imported


def crictl(node: NodeLayout, binary: Path, *args: str) -> str:
    result = subprocess.run(
        [str(binary), f"--runtime-endpoint=unix://{node.containerd_socket}",
         f"--image-endpoint=unix://{node.containerd_socket}", "--timeout=60s", *args],
        capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"crictl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def remove_all_pods(node: NodeLayout, crictl_binary: Path) -> int:
    """Stop and remove every pod sandbox through CRI, so CNI releases addresses and veths."""
    sandboxes = crictl(node, crictl_binary, "pods", "--quiet").split()
    for sandbox in sandboxes:
        crictl(node, crictl_binary, "stopp", sandbox)
        crictl(node, crictl_binary, "rmp", "--force", sandbox)
    return len(sandboxes)


def shim_pids(node: NodeLayout) -> list[int]:
    """containerd shims that belong to our containerd (they name its socket)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        argv = processes.command_line(int(entry.name))
        if argv and Path(argv[0]).name.startswith("containerd-shim") and \
                str(node.containerd_socket) in argv:
            found.append(int(entry.name))
    return found


def kill_shims(node: NodeLayout) -> None:
    for pid in shim_pids(node):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def mounts_under(*roots: Path) -> list[str]:
    """Mount points below the given directories, deepest first."""
    prefixes = [str(root.resolve()) + "/" for root in roots]
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if any(point.startswith(prefix) or point + "/" == prefix for prefix in prefixes):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_under(*roots: Path) -> None:
    for point in mounts_under(*roots):
        subprocess.run(["umount", "--lazy", point], capture_output=True)


def ensure_cgroup_root(node: NodeLayout) -> None:
    for directory in node.cgroup_dirs():
        directory.mkdir(exist_ok=True)


def remove_cgroup_root(node: NodeLayout) -> None:
    """rmdir the (by now empty) cgroup tree, deepest first; cgroup dirs are not rm -r-able."""
    for root in node.cgroup_dirs():
        if root.exists():
            for directory in sorted((p for p in root.rglob("*") if p.is_dir()),
                                    key=lambda p: len(p.parts), reverse=True):
                directory.rmdir()
            root.rmdir()
