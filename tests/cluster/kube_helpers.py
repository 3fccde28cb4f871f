"""Small helpers for cluster-tier tests: kubectl, readiness, waiting for a condition."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")
CRD_DIR = Path(__file__).resolve().parents[2] / "charts" / "arcdesk" / "crds"


@dataclass(frozen=True)
class Kubectl:
    binary: Path
    kubeconfig: Path

    def run(self, *args: str, stdin: str | None = None, check: bool = True,
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(self.binary), f"--kubeconfig={self.kubeconfig}", *args],
                                input=stdin, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def apply(self, manifest: dict[str, Any], *extra: str,
              check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("apply", "-f", "-", *extra, stdin=json.dumps(manifest), check=check)

    def get_json(self, *args: str) -> Any:
        return json.loads(self.run("get", *args, "-o", "json").stdout)


def install_crds(kubectl: Kubectl, field_manager: str) -> list[str]:
    """Apply arcdesk's CRDs from charts/arcdesk/crds (server-side) and wait until they are
    Established; returns their names."""
    names = []
    for path in sorted(CRD_DIR.glob("*.yaml")):
        kubectl.run("apply", "--server-side", "--force-conflicts",
                    f"--field-manager={field_manager}", "-f", str(path))
        names.append(yaml.safe_load(path.read_text())["metadata"]["name"])
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
                *(f"crd/{name}" for name in names))
    return names


def apiserver_ready(kubeconfig: Path) -> bool:
    """GET /readyz with the kubeconfig's embedded CA and client certificate."""
    document = yaml.safe_load(kubeconfig.read_text())
    cluster = document["clusters"][0]["cluster"]
    user = document["users"][0]["user"]
    with tempfile.TemporaryDirectory() as scratch:
        files = {}
        for key in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
            files[key] = Path(scratch) / key
            files[key].write_bytes(base64.b64decode(user.get(key) or cluster[key]))
        context = ssl.create_default_context(cafile=str(files["certificate-authority-data"]))
        context.load_cert_chain(files["client-certificate-data"], files["client-key-data"])
        try:
            with urllib.request.urlopen(f"{cluster['server']}/readyz", timeout=5,
                                        context=context) as response:
                return bool(response.status == 200)
        except OSError:
            return False


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60,
             interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
