"""Running `arcdesk` in-process against the devcluster, and kubeconfigs for other users,
other servers and a bare API server without arcdesk's CRDs."""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner, Result

from arcdesk.cli.main import app
from devcluster.components import Layout, apiserver_command
from devcluster.kit import apiserver_ready, free_port

REPO = Path(__file__).resolve().parents[2]


def arcdesk(*args: str, env: dict[str, str] | None = None) -> Result:
    """`arcdesk ARGS` in-process; stdout and stderr apart, exceptions surfaced as failures."""
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"arcdesk {' '.join(args)} raised {result.exception!r}") \
            from result.exception
    return result


def one_line_error(result: Result, code: int = 1) -> str:
    """The single `error: ...` line of a failed run (no traceback, nothing else on stderr)."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0].removeprefix("error: ")


def kubeconfig_doc(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def token_kubeconfig(admin: Path, token: str, namespace: str, out: Path) -> Path:
    """A kubeconfig for the admin's server and CA that logs in with ``token``."""
    doc = kubeconfig_doc(admin)
    doc["users"] = [{"name": "token-user", "user": {"token": token}}]
    doc["contexts"] = [{"name": "token", "context": {
        "cluster": doc["clusters"][0]["name"], "user": "token-user", "namespace": namespace}}]
    doc["current-context"] = "token"
    out.write_text(json.dumps(doc))
    return out


def server_kubeconfig(admin: Path, server: str, out: Path) -> Path:
    """The admin kubeconfig pointed at another ``server``."""
    doc = kubeconfig_doc(admin)
    doc["clusters"][0]["cluster"]["server"] = server
    out.write_text(json.dumps(doc))
    return out


def _etcd(port: int, path: str, body: dict[str, str]) -> None:
    """One call of etcd's JSON gateway (keys base64-encoded)."""
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in body.items()}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v3/kv/{path}", method="POST",
                                     data=json.dumps(encoded).encode())
    with urllib.request.urlopen(request, timeout=10):
        pass


@contextmanager
def bare_apiserver(admin: Path, scratch: Path) -> Iterator[Path]:
    """A second kube-apiserver on the devcluster's etcd under a prefix of its own: a real,
    empty cluster without arcdesk's CRDs. Yields its admin kubeconfig; removes its data."""
    port, prefix = free_port(), f"/arcdesk-cli-test-{secrets.token_hex(4)}"
    layout = dataclasses.replace(Layout.from_environment(), apiserver_port=port)
    log = (scratch / "bare-apiserver.log").open("wb")
    process = subprocess.Popen([*apiserver_command(layout), f"--etcd-prefix={prefix}"],
                               stdout=log, stderr=subprocess.STDOUT)
    kubeconfig = server_kubeconfig(admin, f"https://127.0.0.1:{port}", scratch / "bare.yaml")
    try:
        _wait_ready(kubeconfig, process, scratch / "bare-apiserver.log")
        yield kubeconfig
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        _etcd(layout.etcd_client_port, "deleterange",
              {"key": f"{prefix}/", "range_end": f"{prefix}0"})


def _wait_ready(kubeconfig: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the bare kube-apiserver exited: {log.read_text()[-2000:]}")
        if apiserver_ready(kubeconfig):
            return
        time.sleep(0.5)
    raise AssertionError("the bare kube-apiserver was not ready after 60s")
