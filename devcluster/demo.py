"""`make demo`: the operator and the gateway as background processes, a DesktopProfile for
the locally built image, a two-seat course on the devcluster's real node, and its links.

    .venv/bin/python -m devcluster.demo up       # after realnode-up and image-import
    .venv/bin/python -m devcluster.demo status   # RSS and CPU of every component
    .venv/bin/python -m devcluster.demo down     # course namespace, gateway, operator gone

`up` is idempotent: processes still running from an earlier `up` are kept. Pids and logs
live in .devcluster/demo/. tests/e2e/stack.py runs the same :class:`Stack` with its own
namespace, state directory and ports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arcdesk.gateway import novnc
from devcluster.kit import free_port, gateway_indexed, wait_for

REPO = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("ARCDESK_DEVCLUSTER_DIR") or REPO / ".devcluster")
ARCDESK = Path(sys.executable).parent / "arcdesk"
NAMESPACE = "arcdesk-demo"
GATEWAY_PORT = int(os.environ.get("DEMO_GATEWAY_PORT", "8000"))
PROFILE_FILE = REPO / "examples" / "profile-demo.yaml"
COURSE_FILE = REPO / "examples" / "course-demo.yaml"


class DemoError(Exception):
    """Something the person running the demo has to fix; the message says what."""


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def http_status(url: str) -> int:
    """The status of a GET without following redirects (0: nothing answers)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


@dataclass
class Background:
    """A process started in its own session (it outlives `make`), pid and log in ``state``."""

    name: str
    state: Path

    @property
    def pid_file(self) -> Path:
        return self.state / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return self.state / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of our process while it runs (a recycled pid has another start time)."""
        try:
            pid, started = (int(n) for n in self.pid_file.read_text().split())
        except (OSError, ValueError):
            return None
        return pid if _start_time(pid) == started else None

    def start(self, argv: list[str], env: dict[str, str]) -> int:
        self.state.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out, open(os.devnull, "rb") as devnull:
            process = subprocess.Popen(argv, env=env, stdin=devnull, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(f"{process.pid} {_start_time(process.pid)}\n")
        return process.pid

    def exited(self) -> str | None:
        """None while running, else the log's tail."""
        if self.pid() is not None:
            return None
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-30:])

    def stop(self, timeout: float = 15) -> bool:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.pid() is not None and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.1)
            if self.pid() is not None:
                os.kill(pid, signal.SIGKILL)
                _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return pid is not None


def _start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot); None once it has exited."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _reap(pid: int) -> None:
    """Collect our own child's exit status (tests start and stop in one process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@dataclass(frozen=True)
class Links:
    trainees: dict[str, str]  # seat id -> personal link
    instructor: str
    views: dict[str, str]  # seat id -> view-only page


@dataclass
class Stack:
    """Operator + gateway for one course namespace, and the course itself."""

    namespace: str = NAMESPACE
    state: Path = STATE / "demo"
    gateway_port: int = GATEWAY_PORT
    kubeconfig: Path = STATE / "kubeconfig"
    operator: Background = field(init=False)
    gateway: Background = field(init=False)

    def __post_init__(self) -> None:
        self.operator = Background("operator", self.state)
        self.gateway = Background("gateway", self.state)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig),
                "ARCDESK_GATEWAY_URL": self.gateway_url}

    def run(self, *argv: str, stdin: str | None = None, timeout: float = 120) -> str:
        done = subprocess.run(argv, env=self.env, input=stdin, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            command = " ".join([Path(argv[0]).name, *argv[1:4]])
            raise DemoError(f"`{command} ...` failed: {(done.stderr or done.stdout).strip()}")
        return done.stdout

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        return self.run(str(STATE / "bin" / "kubectl"), *args, stdin=stdin, timeout=timeout)

    def arcdesk(self, *args: str, timeout: float = 120) -> str:
        return self.run(str(ARCDESK), *args, timeout=timeout)

    def check_prerequisites(self) -> None:
        if not ARCDESK.exists():
            raise DemoError(f"{ARCDESK} missing: run `make setup`")
        if not (novnc.default_dir() / novnc.ENTRY).exists():
            raise DemoError(f"no noVNC for the gateway in {novnc.default_dir()}: run `make setup`")
        if not self.kubeconfig.exists():
            raise DemoError(f"no devcluster ({self.kubeconfig} missing): run `make realnode-up`")
        nodes = json.loads(self.kubectl("get", "nodes", "-l", "arcdesk.dev/node-pool=real",
                                        "-o", "json"))["items"]
        ready = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True"
                                         for c in n["status"].get("conditions", []))]
        if not ready:
            raise DemoError("the devcluster has no Ready real node: run `make realnode-up`")

    def install(self, profile_file: Path = PROFILE_FILE) -> None:
        """CRDs, the profile and the course namespace (Pod Security `restricted`)."""
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f",
                     str(REPO / "charts" / "arcdesk" / "crds"))
        self.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(profile_file))
        self.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": self.namespace, "labels": {
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "app.kubernetes.io/part-of": "arcdesk"}}}))

    def start_operator(self) -> None:
        ports = self.state / "operator.port"
        if self.operator.pid() is None:
            port = free_port()
            ports.parent.mkdir(parents=True, exist_ok=True)
            ports.write_text(f"{port}\n")
            self.operator.start([str(ARCDESK), "operator", "run", "--namespace", self.namespace,
                                 "--probe-host", "127.0.0.1", "--probe-port", str(port)],
                                self.env)
        url = f"http://127.0.0.1:{int(ports.read_text())}/healthz"
        wait_for("the operator's /healthz", lambda: self._up(self.operator, url), timeout=60,
                 interval=0.2, error=DemoError)

    @property
    def gateway_metrics_port_file(self) -> Path:
        return self.state / "gateway-metrics.port"

    def start_gateway(self) -> None:
        if self.gateway.pid() is None:
            if http_status(f"{self.gateway_url}/healthz"):
                raise DemoError(f"port {self.gateway_port} is taken by another program: "
                                "set DEMO_GATEWAY_PORT")
            metrics_port = free_port()  # /metrics has a listener of its own, loopback here
            self.state.mkdir(parents=True, exist_ok=True)
            self.gateway_metrics_port_file.write_text(f"{metrics_port}\n")
            self.gateway.start([str(ARCDESK), "gateway", "run", "--namespace", self.namespace,
                                "--host", "127.0.0.1", "--port", str(self.gateway_port),
                                "--metrics-host", "127.0.0.1", "--metrics-port",
                                str(metrics_port), "--kubeconfig", str(self.kubeconfig)],
                               self.env)
        wait_for("the gateway's /healthz",
                 lambda: self._up(self.gateway, f"{self.gateway_url}/healthz"), timeout=60,
                 interval=0.2, error=DemoError)

    @staticmethod
    def _up(process: Background, url: str) -> bool:
        tail = process.exited()
        if tail is not None:
            raise DemoError(f"the {process.name} exited; {process.log}:\n{tail}")
        return http_status(url) == 200

    def apply_course(self, course_file: Path = COURSE_FILE, timeout: float = 300) -> str:
        """The course of ``course_file`` in this stack's namespace, Ready; returns its name."""
        doc = yaml.safe_load(course_file.read_text())
        doc["metadata"]["namespace"] = self.namespace
        placed = self.state / "course.yaml"
        placed.write_text(yaml.safe_dump(doc))
        self.arcdesk("course", "apply", "-f", str(placed), "--wait", "--timeout", str(timeout),
                     timeout=timeout + 30)
        return str(doc["metadata"]["name"])

    def links(self, course: str) -> Links:
        """Every seat's link, the instructor link and the view-only pages, once they open."""
        ns = ("-n", self.namespace)
        rows = json.loads(self.arcdesk("seats", "list", course, *ns, "--show-links",
                                       "-o", "json"))
        trainees = {str(r["seat"]): str(r["link"]) for r in rows}
        views, instructor = {}, ""
        for seat in trainees:
            shadow = json.loads(self.arcdesk("seats", "shadow", course, seat, *ns, "-o", "json"))
            views[seat], instructor = str(shadow["view"]), str(shadow["instructor"])
        # Probing a link the gateway does not know yet counts against 127.0.0.1's failed
        # attempts (the browser's too): wait for its index first, then open each link once.
        wanted = {"courses": 1, "seats": len(trainees), "credentials": len(trainees),
                  "endpointslices": len(trainees)}
        wait_for("the gateway to index the course's seats", lambda: all(
            self.gateway_indexed().get(kind, 0) >= n for kind, n in wanted.items()), timeout=30,
            interval=0.2, error=DemoError)
        for link in [*trainees.values(), instructor]:
            if http_status(link) != 200:
                raise DemoError(f"the gateway does not open {link.rsplit('/', 2)[0]}/...: see "
                                f"{self.gateway.log}")
        return Links(trainees, instructor, views)

    def gateway_metrics_port(self) -> int:
        """The port of the gateway's /metrics listener (never the public port)."""
        try:
            return int(self.gateway_metrics_port_file.read_text())
        except (OSError, ValueError) as error:
            raise DemoError(f"{self.gateway_metrics_port_file} unreadable: a gateway from before "
                            "--metrics-port runs; `make demo-down`, then `make demo`") from error

    def gateway_indexed(self) -> dict[str, float]:
        """The gateway's arcdesk_gateway_indexed_objects by kind (from its metrics listener)."""
        return gateway_indexed(self.gateway_metrics_port())

    def delete_namespace(self, timeout: float = 180) -> None:
        self.kubectl("delete", "namespace", self.namespace, "--ignore-not-found",
                     "--wait=true", f"--timeout={timeout:.0f}s", timeout=timeout + 10)

    def stop(self) -> list[str]:
        """Stop gateway and operator; the names of those that were running."""
        return [p.name for p in (self.gateway, self.operator) if p.stop()]


def up(stack: Stack, started: float) -> None:
    stack.check_prerequisites()
    stack.install()
    stack.start_operator()
    stack.start_gateway()
    say(f"operator and gateway running (logs in {stack.state}); creating the course")
    course = stack.apply_course()
    links = stack.links(course)
    took = time.time() - started
    print(f"\ncourse {course} ready in namespace {stack.namespace} "
          f"({took:.1f}s after `make demo` started)\n")
    for seat, link in links.trainees.items():
        print(f"  trainee {seat}:  {link}")
    print(f"  instructor:        {links.instructor}")
    print(f"\nFor the arcdesk CLI:  export KUBECONFIG={stack.kubeconfig} "
          f"ARCDESK_GATEWAY_URL={stack.gateway_url} PATH={ARCDESK.parent}:$PATH")
    print("Stop it with `make demo-down`.")


CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def _pids_of(name: str) -> list[int]:
    try:
        pid = int((STATE / "pids" / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return []
    return [pid] if _start_time(pid) is not None else []


def _every_pid() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def stack_processes(stack: Stack) -> dict[str, list[int]]:
    """Every process of the demo by component: control plane, node, pods, operator, gateway."""
    found = {name: _pids_of(name) for name in (*CONTROL_PLANE, "containerd", "kubelet")}
    config = _read(str(STATE / "realnode" / "containerd.toml"))
    socket_path = config.split('address = "', 1)[1].split('"', 1)[0] if "address" in config else "?"
    every = _every_pid()
    found["containerd-shims"] = [p for p in every if "containerd-shim" in
                                 _read(f"/proc/{p}/cmdline") and socket_path in
                                 _read(f"/proc/{p}/cmdline")]
    pods = json.loads(stack.kubectl("get", "pods", "-n", stack.namespace, "-o", "json"))["items"]
    for pod in pods:
        mark = f"pod{pod['metadata']['uid']}"
        found[f"pod {pod['metadata']['name']}"] = [
            p for p in every if mark in _read(f"/proc/{p}/cgroup")]
    found["operator"] = [p for p in [stack.operator.pid()] if p]
    found["gateway"] = [p for p in [stack.gateway.pid()] if p]
    return found


def _cpu_ticks(pid: int) -> int:
    fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[-1].split()
    return int(fields[11]) + int(fields[12]) if len(fields) > 12 else 0


def _memory_kib(pid: int) -> tuple[int, int]:
    """RSS and PSS (shared pages split between their users, so sums do not double-count)."""
    found = {}
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        key, _, value = line.partition(":")
        if key in ("Rss", "Pss"):
            found[key] = int(value.split()[0])
    return found.get("Rss", 0), found.get("Pss", 0)


def status(stack: Stack, seconds: float) -> None:
    """Memory now and CPU over ``seconds`` of every component (CPU: % of one core)."""
    groups = stack_processes(stack)
    before = {p: _cpu_ticks(p) for pids in groups.values() for p in pids}
    time.sleep(seconds)
    ticks = os.sysconf("SC_CLK_TCK") * seconds / 100
    totals = [0.0, 0.0, 0.0]
    print(f"{'component':<28}{'procs':>6}{'RSS MiB':>9}{'PSS MiB':>9}{'CPU %':>7}")
    for name, pids in groups.items():
        memory = [_memory_kib(p) for p in pids]
        row = [sum(m[0] for m in memory) / 1024, sum(m[1] for m in memory) / 1024,
               sum(_cpu_ticks(p) - before.get(p, 0) for p in pids) / ticks]
        totals = [t + r for t, r in zip(totals, row, strict=True)]
        print(f"{name:<28}{len(pids):>6}{row[0]:>9.0f}{row[1]:>9.0f}{row[2]:>7.1f}")
    print(f"{'total':<28}{'':>6}{totals[0]:>9.0f}{totals[1]:>9.0f}{totals[2]:>7.1f}")
    print(f"(CPU over {seconds:.0f}s; control plane and node are shared with anything else "
          "on the devcluster)")


def down(stack: Stack) -> None:
    # The namespace goes first, while the operator still runs; then the processes.
    try:
        stack.delete_namespace()
        say(f"namespace {stack.namespace} deleted")
    except (DemoError, subprocess.TimeoutExpired) as error:
        say(f"namespace {stack.namespace} not deleted: {error}")
    stopped = stack.stop()
    say(f"stopped {', '.join(stopped) or 'nothing (not running)'}; the devcluster keeps "
        "running (`make cluster-down`)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "status", "down"])
    parser.add_argument("--seconds", type=float, default=10, help="status: CPU sample length")
    args = parser.parse_args()
    started = float(os.environ.get("ARCDESK_DEMO_T0") or time.time())
    stack = Stack()
    try:
        {"up": lambda: up(stack, started), "status": lambda: status(stack, args.seconds),
         "down": lambda: down(stack)}[args.command]()
    except DemoError as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
