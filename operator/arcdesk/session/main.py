"""``arcdesk-session``: the desktop image's entrypoint.

Starts Xvnc, an XFCE session on a private D-Bus, websockify serving noVNC and the agent;
seeds the home in the background. Exits 0 after SIGTERM/SIGINT (everything stopped within
5 s) and non-zero as soon as any long-running child dies, so Kubernetes restarts the pod.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from arcdesk.session import agent, auth, desktop
from arcdesk.session.config import ConfigError, SessionConfig, from_args, runtime_env
from arcdesk.session.processes import Child, Supervisor, become_subreaper

DISPLAY_TIMEOUT = 20.0
STOP_TIMEOUT = 3.0  # SIGTERM grace before SIGKILL; +1 s for SIGKILL keeps us within 5 s
POLL = 0.1
EXIT_CONFIG, EXIT_CHILD_DIED = 2, 1


def log(message: str) -> None:
    print(f"arcdesk-session: {message}", file=sys.stderr, flush=True)


def make_rundir(config: SessionConfig) -> Path:
    """Private per-run directory (password file, X cookie, logs) in a writable place."""
    if config.run_dir is None:
        rundir = Path(tempfile.mkdtemp(prefix="arcdesk-session-"))
    else:
        rundir = config.run_dir
        rundir.mkdir(parents=True, exist_ok=True)
    rundir.chmod(0o700)
    for sub in ("logs", "xdg-runtime"):
        (rundir / sub).mkdir(mode=0o700, exist_ok=True)
    return rundir


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def log_tail(child: Child, log_dir: Path, lines: int = 20) -> str:
    try:
        text = (log_dir / f"{child.name}.log").read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Session:
    """One running desktop: owns the supervisor, the agent and the stop signal."""

    def __init__(self, config: SessionConfig, rundir: Path, argv: Sequence[str]) -> None:
        self.config = config
        self.rundir = rundir
        self.argv = list(argv)  # the seeding process parses the same options
        self.xvnc_argv: list[str] = []
        self.stopping = threading.Event()
        self.supervisor = Supervisor(rundir / "logs", mark=secrets.token_hex(8))
        self.seeder: Child | None = None
        self.env: dict[str, str] = {}
        self.novnc_answered = False

    def prepare(self, passwords: auth.Passwords) -> None:
        passwd, xauthority = self.rundir / "passwd", self.rundir / "Xauthority"
        auth.write_passwd_file(passwords, passwd)
        auth.write_xauthority(xauthority, self.config.display)
        subtitle = " · ".join(p for p in (self.config.trainee, self.config.profile) if p)
        xdg = desktop.write_xdg_dirs(self.config, self.rundir, subtitle)
        self.env = runtime_env(self.config, self.rundir, xauthority, xdg, os.environ)
        self.xvnc_argv = desktop.xvnc_argv(self.config, passwd, xauthority)

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def seeding(self) -> str:
        if self.seeder is None:
            return "none"
        if self.seeder.exit_code is None:
            return "running"
        return "done" if self.seeder.exit_code == 0 else "failed"

    def healthy(self) -> bool:
        """Every child alive, Xvnc listening, and websockify (noVNC) listening once.

        The pod's readinessProbe asks this from the container's start (no startup probe: a
        startup probe's success waits for the readiness probe's next period, up to a second
        more before a trainee gets the desktop). websockify forks a handler for each
        connection, so once it has answered, its process staying alive is what counts.
        """
        if self.supervisor.first_dead() is not None:
            return False
        self.novnc_answered = self.novnc_answered or listening(self.config.novnc_port)
        return self.novnc_answered and listening(self.config.rfb_port)

    def start(self) -> None:
        """Children in the order that gets the first frame drawn soonest."""
        home = self.config.home
        # Niced: on a first start, cloning and ARC scaffolding must not delay the first frame.
        seed_cmd = ["nice", "-n", "10", sys.executable, "-m", "arcdesk.session.seed", *self.argv]
        self.seeder = self.supervisor.start("seed", seed_cmd, self.env, home, oneshot=True)
        self.supervisor.start("xvnc", self.xvnc_argv, self.env, home)
        self.supervisor.start("websockify", desktop.websockify_argv(self.config), self.env, home)
        self.wait_for_display()
        self.supervisor.start("xfce", desktop.xfce_argv(), self.env, home)

    def wait_for_display(self) -> None:
        socket_path = Path(f"/tmp/.X11-unix/X{self.config.display}")
        deadline = time.monotonic() + DISPLAY_TIMEOUT
        while not (socket_path.exists() and listening(self.config.rfb_port)):
            if self.supervisor.first_dead() or self.stopping.is_set():
                return  # the main loop reports it
            if time.monotonic() > deadline:
                raise TimeoutError(f"Xvnc did not come up on {self.config.display_name}")
            time.sleep(0.02)

    def serve_agent(self) -> agent.AgentServer:
        state = agent.AgentState(
            supervisor=self.supervisor,
            env=self.env,
            rfb_port=self.config.rfb_port,
            display=self.config.display_name,
            healthy=self.healthy,
            seeding=self.seeding,
        )
        return agent.serve((self.config.bind, self.config.agent_port), state)

    def watch(self) -> int:
        """Block until a signal (exit 0) or the death of a long-running child (exit 1)."""
        while not self.stopping.wait(POLL):
            dead = self.supervisor.first_dead()
            if dead is not None:
                log(f"{dead.name} exited with {dead.exit_code}; stopping the session")
                tail = log_tail(dead, self.supervisor.log_dir)
                if tail:
                    log(f"last lines of {dead.name}.log:\n{tail}")
                return EXIT_CHILD_DIED
        return 0


def run(config: SessionConfig, passwords: auth.Passwords, argv: Sequence[str]) -> int:
    session = Session(config, make_rundir(config), argv)
    session.prepare(passwords)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, session.on_signal)
    become_subreaper()
    server: agent.AgentServer | None = None
    try:
        session.start()
        server = session.serve_agent()
        log(f"desktop {config.display_name}: noVNC on {config.bind}:{config.novnc_port}, "
            f"agent on {config.bind}:{config.agent_port}, logs in {session.rundir / 'logs'}")
        code = session.watch()
    except (TimeoutError, OSError) as err:
        log(str(err))
        code = EXIT_CHILD_DIED
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        session.supervisor.stop(timeout=STOP_TIMEOUT)
        if config.run_dir is None:  # ours alone; a restarted container must not pile them up
            shutil.rmtree(session.rundir, ignore_errors=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        config = from_args(args, os.environ)
        passwords = auth.read_passwords(config.secrets_dir)
    except (ConfigError, auth.SecretError) as err:
        log(str(err))
        return EXIT_CONFIG
    return run(config, passwords, args)


if __name__ == "__main__":
    sys.exit(main())
