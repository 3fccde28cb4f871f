"""The helpers tests, benchmarks and the demo share: loopback ports, waiting, kubectl,
API server readiness, the operator as a subprocess, and headless Chromium. One copy each;
tests/ and bench/ import them from here (bench never imports tests/)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
CRD_DIR = REPO / "charts" / "arcdesk" / "crds"
ARCDESK = Path(sys.executable).parent / "arcdesk"
TEST_IMAGE = "localhost/arcdesk/desktop-base:test"  # what KWOK "runs" in cluster tests
CHROMIUM = "/usr/bin/chromium"
# What this machine's closed network needs (see the machine notes): no background fetches.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PARALLEL_WRITERS = 4


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback TCP ports nothing listens on right now (the kernel
    picks them, so no other cluster or test is hit)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def free_port() -> int:
    return free_ports(1)[0]


def listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60,
             interval: float = 0.5, error: type[Exception] = AssertionError) -> T:
    """Poll ``probe`` until it returns something truthy; on timeout raise ``error`` naming
    ``what`` and the last answer."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise error(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def url_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    """Whether a GET of ``url`` answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def gateway_indexed(metrics_port: int, host: str = "127.0.0.1") -> dict[str, float]:
    """The gateway's arcdesk_gateway_indexed_objects by kind, from its metrics listener
    (the public /healthz says only ok); empty while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://{host}:{metrics_port}/metrics",
                                    timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        if line.startswith('arcdesk_gateway_indexed_objects{kind="'):
            found[line.split('"')[1]] = float(line.rsplit(" ", 1)[1])
    return found


class KubectlError(RuntimeError):
    """kubectl exited non-zero; the message holds the command and its stderr."""


@dataclass(frozen=True)
class Kubectl:
    """The devcluster's kubectl against one kubeconfig."""

    binary: Path
    kubeconfig: Path

    def run(self, *args: str, stdin: str | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(self.binary), f"--kubeconfig={self.kubeconfig}", *args],
                                input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise KubectlError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def out(self, *args: str, stdin: str | None = None) -> str:
        return self.run(*args, stdin=stdin).stdout

    def apply(self, manifest: dict[str, Any], *extra: str,
              check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("apply", "-f", "-", *extra, stdin=json.dumps(manifest), check=check)

    def get_json(self, *args: str) -> Any:
        return json.loads(self.out("get", *args, "-o", "json"))

    def create(self, manifests: list[dict[str, Any]]) -> None:
        """Create objects, split over a few kubectl processes to overlap round trips."""
        chunks = [manifests[i::PARALLEL_WRITERS] for i in range(PARALLEL_WRITERS)]
        documents = [json.dumps({"apiVersion": "v1", "kind": "List", "items": chunk})
                     for chunk in chunks if chunk]
        with ThreadPoolExecutor(len(documents) or 1) as pool:
            list(pool.map(lambda doc: self.out("create", "-f", "-", stdin=doc), documents))


def install_crds(kubectl: Kubectl, field_manager: str) -> list[str]:
    """Apply arcdesk's CRDs from charts/arcdesk/crds (server-side) and wait until they are
    Established; returns their names."""
    import yaml  # here: the devcluster itself runs on a bare python3 without PyYAML

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
    import yaml

    if not kubeconfig.exists():
        return False
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
        return url_ok(f"{cluster['server']}/readyz", context)


class OperatorProcess:
    """One `arcdesk operator run` subprocess; its log goes to ``log``."""

    def __init__(self, kubeconfig: Path, namespaces: list[str], log: Path,
                 *extra: str) -> None:
        self.kubeconfig, self.namespaces, self.log = kubeconfig, namespaces, log
        self.extra = extra  # more `operator run` options
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [str(ARCDESK), "operator", "run", "--probe-host", "127.0.0.1",
                "--probe-port", str(self.port)]
        for namespace in self.namespaces:
            args += ["--namespace", namespace]
        args += self.extra
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for("the operator's /healthz", self.healthy, timeout=30, interval=0.2)

    def _get(self, path: str) -> str:
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise AssertionError(f"the operator exited; log:\n{self.log_tail()}")
        try:
            return self._get("/healthz").strip() == "ok"
        except OSError:
            return False

    def metrics(self) -> str:
        return self._get("/metrics")

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample of /metrics (0 when absent)."""
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in self.metrics().splitlines():
            sample, _, value = line.rpartition(" ")
            metric, _, rest = sample.partition("{")
            if metric == name and sorted(rest.rstrip("}").split(",")) == sorted(
                    wanted.split(",")):
                return float(value)
        return 0.0

    def kill(self) -> None:
        """SIGKILL, as a node failure or OOM kill would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def chromium(profile_dir: Path) -> Iterator[Any]:
    """Headless Debian Chromium (never a Playwright-downloaded browser) with a fresh profile,
    as a Playwright browser context; the 1280x800 desktop fits its viewport unscaled."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} missing: run `make desktop-deps` (Debian chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()
