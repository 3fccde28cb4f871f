"""`make demo`: arcdesk installed with Helm as an admin installs it — the operator and the
gateway as pods on the devcluster's real node, pulled by digest from the devcluster registry —
then a DesktopProfile for the ARC + bioimage desktop (by digest too; DEMO_PROFILE=base for the
quicker base desktop), a two-seat course, and its links through the gateway pod's NodePort.

    .venv/bin/python -m devcluster.demo up       # after realnode-up
    .venv/bin/python -m devcluster.demo status   # the pods; RSS and CPU of every component
    .venv/bin/python -m devcluster.demo down     # course, release and namespace gone

`up` is idempotent (`helm upgrade --install`; unchanged images are pushed as a manifest).
tests/e2e/stack.py runs the same :class:`Stack` in a namespace and NodePort of its own, so
`make demo` and the e2e tier install the same thing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devcluster import registry
from devcluster.checks import DevclusterError
from devcluster.components import Layout
from devcluster.kit import gateway_indexed, wait_for

REPO = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("ARCDESK_DEVCLUSTER_DIR") or REPO / ".devcluster")
ARCDESK = Path(sys.executable).parent / "arcdesk"
NAMESPACE = "arcdesk-demo"
RELEASE = "arcdesk"
# NodePort through kube-proxy (not hostPort): the Service is what an admin exposes anywhere.
NODE_PORT = int(os.environ.get("DEMO_NODE_PORT", "30080"))
CHART = REPO / "charts" / "arcdesk"
VALUES = REPO / "devcluster" / "values-realnode.yaml"
BUILDER = REPO / "images" / "build" / "desktop_image.py"
# Which desktop image the demo builds and its DesktopProfile "demo" runs: bioimage or base.
DEMO_PROFILE = os.environ.get("DEMO_PROFILE") or "bioimage"
PROFILE_FILES = {"bioimage": REPO / "examples" / "profile-demo.yaml",
                 "base": REPO / "examples" / "profile-demo-base.yaml"}
COURSE_FILE = REPO / "examples" / "course-demo.yaml"
IMAGE_TAG = "0.1.0"


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


@dataclass(frozen=True)
class Images:
    """Digest references in the devcluster registry (<registry>/<repository>@sha256:...)."""

    operator: str
    desktop: str


def build_and_push(profile: str, repository: str) -> str:
    """Build ``profile`` (cached by content) and push it as <repository>:IMAGE_TAG."""
    built = subprocess.run([sys.executable, str(BUILDER), profile], capture_output=True,
                           text=True, timeout=3600)
    if built.returncode != 0:
        raise DemoError(f"building the {profile} image failed:\n{built.stderr[-3000:]}")
    try:
        return registry.push(Layout.from_environment(), Path(built.stdout.split()[-2]),
                             f"{repository}:{IMAGE_TAG}")
    except DevclusterError as error:
        raise DemoError(str(error)) from error


def profile_file(profile: str) -> Path:
    if profile not in PROFILE_FILES:
        raise DemoError(f"DEMO_PROFILE={profile!r}: use one of {', '.join(PROFILE_FILES)}")
    return PROFILE_FILES[profile]


def push_images(profile: str = DEMO_PROFILE) -> Images:
    profile_file(profile)  # a wrong DEMO_PROFILE fails before any build
    return Images(operator=build_and_push("operator", "arcdesk/operator"),
                  desktop=build_and_push(profile, f"arcdesk/desktop-{profile}"))


@dataclass(frozen=True)
class Links:
    trainees: dict[str, str]  # seat id -> personal link
    instructor: str
    views: dict[str, str]  # seat id -> view-only page


@dataclass
class Stack:
    """arcdesk installed with the chart in one namespace (which it serves), and its course."""

    namespace: str = NAMESPACE
    state: Path = STATE / "demo"
    node_port: int = NODE_PORT  # 0: Kubernetes picks one
    kubeconfig: Path = STATE / "kubeconfig"
    release: str = RELEASE
    profile: str = DEMO_PROFILE  # the desktop image of the profile "demo"
    gateway_url: str = ""  # http://<node IP>:<node port>, known once installed

    @property
    def env(self) -> dict[str, str]:
        helm_homes = {f"HELM_{kind}_HOME": str(self.state / "helm" / kind.lower())
                      for kind in ("CACHE", "CONFIG", "DATA")}  # the user's helm untouched
        return {**os.environ, **helm_homes, "KUBECONFIG": str(self.kubeconfig),
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

    def helm(self, *args: str, timeout: float = 300) -> str:
        return self.run(str(STATE / "bin" / "helm"), *args, timeout=timeout)

    def arcdesk(self, *args: str, timeout: float = 120) -> str:
        return self.run(str(ARCDESK), *args, timeout=timeout)

    def check_prerequisites(self) -> None:
        if not ARCDESK.exists():
            raise DemoError(f"{ARCDESK} missing: run `make setup`")
        if not (STATE / "bin" / "helm").exists():
            raise DemoError(f"no helm in {STATE / 'bin'}: run `make cluster-up`")
        if not self.kubeconfig.exists():
            raise DemoError(f"no devcluster ({self.kubeconfig} missing): run `make realnode-up`")
        if not self.node_ip():
            raise DemoError("the devcluster has no Ready real node: run `make realnode-up`")

    def node_ip(self) -> str:
        """The InternalIP of the Ready real node ("" if there is none)."""
        nodes = json.loads(self.kubectl("get", "nodes", "-l", "arcdesk.dev/node-pool=real",
                                        "-o", "json"))["items"]
        for node in nodes:
            if any(c["type"] == "Ready" and c["status"] == "True"
                   for c in node["status"].get("conditions", [])):
                return str(next(a["address"] for a in node["status"]["addresses"]
                                if a["type"] == "InternalIP"))
        return ""

    def install(self, images: Images, *values: str) -> None:
        """Namespace (Pod Security `restricted`), the chart by digest, the profile by digest."""
        self.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": self.namespace, "labels": {
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "app.kubernetes.io/part-of": "arcdesk"}}}))
        # Helm installs crds/ only when they are missing; applying them keeps them current.
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CHART / "crds"))
        repository, digest = images.operator.split("@")
        self.helm("upgrade", "--install", self.release, str(CHART), "-n", self.namespace,
                  "-f", str(VALUES), "--set", f"image.repository={repository}",
                  "--set", f"image.digest={digest}", "--set", f"gateway.service.nodePort="
                  f"{self.node_port}", "--set", "desktops.defaultProfiles=false", *values,
                  "--wait", "--timeout", "180s")
        self.apply_profile(images.desktop, profile_file(self.profile))
        service = json.loads(self.kubectl("get", "service", f"{self.release}-gateway", "-n",
                                          self.namespace, "-o", "json"))
        self.gateway_url = f"http://{self.node_ip()}:{service['spec']['ports'][0]['nodePort']}"
        wait_for("the gateway pod through its NodePort",
                 lambda: http_status(f"{self.gateway_url}/healthz") == 200, timeout=60,
                 interval=0.5, error=DemoError)

    def apply_profile(self, image: str, manifest: Path) -> None:
        """``manifest`` with ``image`` (a digest reference): what runs is what was pushed."""
        doc = yaml.safe_load(manifest.read_text())
        doc["spec"]["image"] = image
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                     stdin=json.dumps(doc))

    def apply_course(self, course_file: Path = COURSE_FILE, timeout: float = 300,
                     seats: int | None = None) -> str:
        """The course of ``course_file`` in this stack's namespace (``seats``: that many
        instead), Ready; returns its name."""
        doc = yaml.safe_load(course_file.read_text())
        doc["metadata"]["namespace"] = self.namespace
        if seats is not None:
            doc["spec"]["seats"]["count"] = seats
        self.state.mkdir(parents=True, exist_ok=True)
        placed = self.state / "course.yaml"
        placed.write_text(yaml.safe_dump(doc))
        self.arcdesk("course", "apply", "-f", str(placed), "--wait", "--timeout", str(timeout),
                     timeout=timeout + 30)
        return str(doc["metadata"]["name"])

    def pods(self, component: str) -> list[dict[str, Any]]:
        """This release's pods of ``component`` (operator or gateway)."""
        found: list[dict[str, Any]] = json.loads(self.kubectl(
            "get", "pods", "-n", self.namespace, "-l",
            f"app.kubernetes.io/instance={self.release},app.kubernetes.io/component={component}",
            "-o", "json"))["items"]
        return found

    def gateway_indexed(self) -> list[dict[str, float]]:
        """Each gateway pod's arcdesk_gateway_indexed_objects by kind (its metrics port, on
        the pod IP: reachable from the node, never through the Service)."""
        return [gateway_indexed(container_port(pod, "metrics"),
                                pod["status"].get("podIP", "0.0.0.0"))
                for pod in self.pods("gateway")]

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
        # Probing a link a gateway does not know yet counts against the client's failed
        # attempts (the browser's too): wait until every replica indexed the course first.
        wanted = {"courses": 1, "seats": len(trainees), "credentials": len(trainees),
                  "endpointslices": len(trainees)}
        wait_for("every gateway pod to index the course's seats", lambda: all(
            all(indexed.get(kind, 0) >= n for kind, n in wanted.items())
            for indexed in self.gateway_indexed()), timeout=30, interval=0.2, error=DemoError)
        for link in [*trainees.values(), instructor]:
            if http_status(link) != 200:
                raise DemoError(f"the gateway does not open {link.rsplit('/', 2)[0]}/...: "
                                f"see {self.logs('gateway')}")
        return Links(trainees, instructor, views)

    def logs(self, component: str, lines: int = 30) -> str:
        """The tail of ``component``'s pod logs (for messages when something fails)."""
        try:
            return self.kubectl("logs", "-n", self.namespace, "--tail", str(lines),
                                "--prefix", "-l", f"app.kubernetes.io/instance={self.release},"
                                f"app.kubernetes.io/component={component}")
        except DemoError as error:
            return str(error)

    def uninstall(self, wait: bool = True, timeout: float = 180) -> None:
        """Courses first (the operator still runs to release their seats), the release, the
        namespace."""
        self.kubectl("delete", "courses.arcdesk.dev", "--all", "-n", self.namespace,
                     "--ignore-not-found", f"--wait={str(wait).lower()}",
                     f"--timeout={timeout:.0f}s", timeout=timeout + 10)
        self.helm("uninstall", self.release, "-n", self.namespace, "--ignore-not-found",
                  *(["--wait"] if wait else []), timeout=timeout)
        self.kubectl("delete", "namespace", self.namespace, "--ignore-not-found",
                     f"--wait={str(wait).lower()}", f"--timeout={timeout:.0f}s",
                     timeout=timeout + 10)


def container_port(pod: dict[str, Any], name: str) -> int:
    """The container port called ``name`` (the chart names the gateway's `http` and
    `metrics`)."""
    return int(next(p["containerPort"] for c in pod["spec"]["containers"]
                    for p in c.get("ports", ()) if p["name"] == name))


def up(stack: Stack, started: float) -> None:
    stack.check_prerequisites()
    say(f"building (cached) and pushing the operator and {stack.profile} desktop images")
    images = push_images(stack.profile)
    say(f"helm upgrade --install {stack.release} charts/arcdesk -n {stack.namespace} "
        f"-f devcluster/values-realnode.yaml (image {images.operator})")
    stack.install(images)
    say(f"operator and gateway pods running; creating the course (desktop {images.desktop})")
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
    print("Pods: `make demo-status`.  Stop it with `make demo-down`.")


CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def _start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot); None once it has exited."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
    return None if fields[0] in ("Z", "X") else int(fields[19])


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
    """Every process of the demo by component: control plane, node, and each pod (operator,
    gateway, desktops)."""
    found = {name: _pids_of(name) for name in (*CONTROL_PLANE, "registry", "containerd",
                                               "kubelet", "kube-proxy", "socat")}
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
    """The release's and the course's pods, then memory now and CPU over ``seconds`` of every
    component (CPU: % of one core)."""
    print(stack.kubectl("get", "pods", "-n", stack.namespace, "-o", "wide"))
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
    try:
        stack.uninstall()
        say(f"course, release {stack.release} and namespace {stack.namespace} deleted; the "
            "devcluster keeps running (`make cluster-down`)")
    except (DemoError, subprocess.TimeoutExpired) as error:
        say(f"not everything was deleted: {error}")


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
