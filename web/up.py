"""``judge up``: the whole judge on one machine with embedded defaults.

State lives in ``$JUDGE_DATA_DIR`` (default ``./var``): the SQLite database, a Redis that this
command starts when ``JUDGE_REDIS_URL`` is unset (append-only file there, so queued work survives
a restart), the secret key and the logs. It migrates, loads the sample problems and makes an admin
on first start, then runs the web server and N worker processes and supervises them like an init:
whatever dies (Redis, the web server, a worker) is started again with the same arguments (Redis on
the same port and data), at once the first time and after a doubling delay while it keeps dying,
never giving up. Only Ctrl-C or SIGTERM ends the judge: it then stops the children in order (web,
workers, Redis), leaving no process behind. A child that keeps dying is said loudly on stderr
and in ``/health`` (through web.upstatus).

Children run in their own sessions so a terminal's Ctrl-C reaches only this supervisor, which
then stops them in a known order; each also gets PDEATHSIG, so even a SIGKILL of the supervisor
takes them down.

One ``judge up`` per data directory (store.datalock): it holds an exclusive lock on
``judge.lock`` there, which its children inherit, so a second one (or a standalone ``judge
web``/``judge worker`` on its SQLite file) refuses to start, naming this one's PID.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from store import datalock, env
from web import upstatus

SAMPLES = Path(__file__).with_name("samples")
_PR_SET_PDEATHSIG = 1


class UpError(Exception):
    """A prerequisite is missing or a port is taken; the message says what to do."""


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel to SIGTERM it if we die.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


#: Restart delays: the first death after a good run restarts at once; each further quick death
#: doubles the delay from BACKOFF_FIRST up to BACKOFF_MAX. A run of STABLE_AFTER seconds counts
#: as good and forgets the streak. After KEEPS_DYING quick deaths in a row the child is "failing".
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 30.0
KEEPS_DYING = 3
#: Longest the supervisor sleeps between looks; a child's death or a signal wakes it earlier.
TICK = 1.0


def backoff(streak: int) -> float:
    """Seconds to wait before the next start after ``streak`` quick deaths in a row."""
    if streak <= 1:
        return 0.0
    return min(BACKOFF_FIRST * 2.0 ** (streak - 2), BACKOFF_MAX)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    #: Quick deaths in a row (reset by a run of STABLE_AFTER seconds).
    streak: int = 0
    restarts: int = 0
    last_exit: str | None = None
    #: Monotonic time of the next start while the child is down; None while it runs.
    restart_at: float | None = None
    published_failing: bool = False
    #: Descriptors the child inherits: the data directory's lock, so it is the family's.
    keep_fds: tuple[int, ...] = ()

    @property
    def failing(self) -> bool:
        """Died KEEPS_DYING times in a row and has not run well since."""
        if self.streak < KEEPS_DYING:
            return False
        return not (self.running() and time.monotonic() - self.started_at >= STABLE_AFTER)

    def died(self, now: float) -> float:
        """Record the death just seen; returns the delay before starting it again."""
        code = self.proc.returncode if self.proc else None
        self.last_exit = _how(code)
        if now - self.started_at >= STABLE_AFTER:
            self.streak = 0
        self.streak += 1
        delay = backoff(self.streak)
        self.restart_at = now + delay
        return delay

    def status(self, now: float) -> dict[str, object]:
        """This child as /health shows it (see web.upstatus)."""
        up = self.running()
        return {
            "state": "running" if up else "restarting",
            "pid": self.proc.pid if up and self.proc else None,
            "restarts": self.restarts,
            "failing": self.failing,
            "deaths_in_a_row": self.streak,
            "last_exit": self.last_exit,
            "next_start_in": None if up or self.restart_at is None
            else round(max(0.0, self.restart_at - now), 1),
            "log": str(self.log),
        }  # fmt: skip

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.restart_at = None
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                pass_fds=self.keep_fds,
            )
        finally:
            os.close(fd)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def kill_leftovers(self) -> None:
        """SIGKILL what the last run left in its session (pool processes of a dead worker).

        The group id is the PID of the process we started (its own session), so this reaches
        only processes we started.
        """
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def reap(self, deadline: float) -> None:
        """Wait until ``deadline`` (monotonic), then SIGKILL whatever is left of the child."""
        proc = self.proc
        if proc is None:
            return
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)
        # Anything the child left in its session (Celery pool processes).
        self.kill_leftovers()


def _how(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _check_port(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise UpError(f"cannot listen on {host}:{port} ({e.strerror}); try --port") from None


def _wait(check: Callable[[], bool], timeout: float, what: str, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.running():
            raise UpError(f"{what} exited at start; see {child.log}")
        if check():
            return
        time.sleep(0.1)
    raise UpError(f"{what} did not start within {timeout:.0f} s; see {child.log}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _prepare_database() -> tuple[str, str] | None:
    """Migrate; on first start load the samples and make an admin. Returns (password, token)."""
    from sqlalchemy import select

    import store
    from web import accounts

    engine = store.init_db()
    try:
        with store.session_factory(engine)() as s:
            if s.scalars(select(store.User).where(store.User.is_admin)).first() is not None:
                return None
            if s.scalars(select(store.Problem.id)).first() is None:
                for d in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
                    store.import_problem(s, store.load_directory(d))
            password = secrets.token_urlsafe(12)
            admin = s.scalars(select(store.User).where(store.User.name == "admin")).first()
            if admin is None:
                accounts.create_user(s, "admin", password, admin=True)
            else:
                admin.is_admin = True
                accounts.set_password(s, admin, password)
            token = store.create_token(s, "admin", admin=True)
            s.commit()
            return password, token
    finally:
        engine.dispose()


class Supervisor:
    def __init__(self, host: str, port: int, workers: int) -> None:
        self.host, self.port, self.workers = host, port, workers
        self.data = Path(os.environ.get("JUDGE_DATA_DIR", "./var")).resolve()
        self.logs = Path(os.environ.get("JUDGE_LOG_DIR") or self.data / "logs").resolve()
        self.children: list[Child] = []
        self.stopping = False
        self.lock: datalock.DataLock | None = None

    def env(self, redis_url: str) -> dict[str, str]:
        lock = self.lock.env() if self.lock else {}
        return {**os.environ, "JUDGE_DATA_DIR": str(self.data), "JUDGE_REDIS_URL": redis_url,
                **lock}  # fmt: skip

    def child(self, name: str, argv: list[str], env: dict[str, str], log: str) -> Child:
        """A child that holds this judge's lock on the data directory with it."""
        keep = (self.lock.fd,) if self.lock else ()
        return Child(name, argv, env, self.logs / log, keep_fds=keep)

    def take_lock(self) -> None:
        """One judge up per data directory: refuse (naming the PID) while another runs."""
        if self.lock is None:
            try:
                self.lock = datalock.take_exclusive(self.data)
            except datalock.Busy as e:
                raise UpError(str(e)) from None

    def release_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def start_redis(self) -> str:
        url = os.environ.get("JUDGE_REDIS_URL")
        if url:
            return url
        binary = shutil.which("redis-server")
        if binary is None:
            raise UpError(
                "redis-server is not installed: `apt-get install redis-server` "
                "(or set JUDGE_REDIS_URL to a Redis you run)"
            )
        port = _free_port()
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.data),
                "--appendonly", "yes", "--save", "", "--protected-mode", "yes"]  # fmt: skip
        redis = self.child("redis", argv, dict(os.environ), "redis.log")
        redis.start()
        self.children.append(redis)
        _wait(lambda: _port_open(port), 20, "redis-server", redis)
        return f"redis://127.0.0.1:{port}/0"

    def preflight(self) -> None:
        """Everything that would stop the judge later, checked before anything starts.

        Each failure is one line saying what to do; bad JUDGE_* values raise ConfigError.
        """
        for warning in env.check(["web", "worker", "up"]):
            print(f"judge up: warning: {warning}", file=sys.stderr)
        if self.workers < 1:
            raise UpError("--workers must be at least 1")
        if os.geteuid() != 0:
            raise UpError(
                "the sandbox needs root (it makes cgroups and namespaces): run `sudo judge up`"
            )
        if self.data.is_dir():  # else nobody runs there yet: locked once it is made, below
            self.take_lock()
        if not os.environ.get("JUDGE_REDIS_URL") and shutil.which("redis-server") is None:
            raise UpError(
                "redis-server is not installed: `apt-get install redis-server` "
                "(or set JUDGE_REDIS_URL to a Redis you run)"
            )
        _check_port(self.host, self.port)
        from sandbox import doctor

        for row in doctor.report():
            if not row["ok"]:
                raise UpError(
                    f"this host cannot run the sandbox: {row['check']}: {row['detail']} "
                    "(`sandbox doctor` lists every check)"
                )

    def run(self) -> int:
        try:
            return self._run()
        finally:
            self.release_lock()

    def _run(self) -> int:
        try:
            self.preflight()
            # Private: the database holds hidden tests and password hashes, the logs their
            # traces. (mode applies only to what is created here; an existing directory keeps
            # its owner's.)
            self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.take_lock()  # two judge up racing on a new directory: one of them refuses
        except UpError as e:
            print(f"judge up: {e}", file=sys.stderr)
            return 2
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["JUDGE_DATA_DIR"] = str(self.data)
        self._catch_signals()
        try:
            redis_url = self.start_redis()
            env = self.env(redis_url)
            first = _prepare_database()
            self._start_workers(env)
            web = self.child(
                "web",
                [sys.executable, "-m", "web.cli", "web", "--host", self.host,
                 "--port", str(self.port)],
                env,
                "web.log",
            )  # fmt: skip
            web.start()
            self.children.append(web)
            _wait(lambda: _port_open(self.port), 30, "the web server", web)
            self._banner(first)
            return self._supervise()
        except UpError as e:
            print(f"judge up: {e}", file=sys.stderr)
            return 2
        finally:
            self.shutdown()
            self._release_signals()

    def _start_workers(self, env: dict[str, str]) -> None:
        for i in range(self.workers):
            argv = [sys.executable, "-m", "worker", "--concurrency", "1",
                    "--hostname", f"up{i}-{os.getpid()}@%h"]  # fmt: skip
            child = self.child(f"worker-{i}", argv, env, f"worker-{i}.log")
            child.start()
            self.children.append(child)

    def _banner(self, first: tuple[str, str] | None) -> None:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        url = f"http://{host}:{self.port}"
        lines = [f"Judge is running at {url}  (Ctrl-C stops it)",
                 f"{self.workers} worker process(es); API docs {url}/docs, "
                 f"metrics {url}/metrics, health {url}/health",
                 f"data: {self.data}  logs: {self.logs}"]  # fmt: skip
        if first is not None:
            password, token = first
            lines += [f"admin login: admin / {password}  (`judge user password admin` resets it)",
                      "admin API token (shown once):", token]  # fmt: skip
        print("\n".join(lines), flush=True)

    def _supervise(self) -> int:
        """Restart whatever dies, with backoff, until Ctrl-C or SIGTERM; returns 0 then."""
        self._publish()
        while not self.stopping:
            now = time.monotonic()
            # A crash loop that healed (a long run since) is published as no longer failing.
            changed = any(c.failing != c.published_failing for c in self.children)
            for child in self.children:
                if self.stopping:
                    break
                if child.restart_at is None and not child.running():
                    self._on_death(child, now)
                    changed = True
                if child.restart_at is not None and child.restart_at <= now:
                    self._restart(child)
                    changed = True
            if changed:
                self._publish()
            self._sleep(self._next_wake(time.monotonic()))
        return 0

    def _on_death(self, child: Child, now: float) -> None:
        delay = child.died(now)
        # The dead child's session may hold orphans (Celery pool processes): they would keep
        # a port or a broker connection, so they go before anything starts again.
        child.kill_leftovers()
        when = "now" if delay == 0 else f"in {delay:g} s"
        if child.failing:
            # Loud: a crash loop hides behind a judge that still answers HTTP.
            print(f"judge up: WARNING: {child.name} keeps dying ({child.streak} times in a "
                  f"row, last {child.last_exit}); restarting it {when}; see {child.log}",
                  file=sys.stderr, flush=True)  # fmt: skip
        else:
            print(f"judge up: {child.name} exited ({child.last_exit}); restarting it {when}",
                  file=sys.stderr, flush=True)  # fmt: skip

    def _restart(self, child: Child) -> None:
        try:
            child.start()
        except OSError as e:  # fork failed (no memory, no pids): try again later
            child.restart_at = time.monotonic() + BACKOFF_MAX
            print(f"judge up: cannot start {child.name}: {e}; trying again in "
                  f"{BACKOFF_MAX:g} s", file=sys.stderr, flush=True)  # fmt: skip
            return
        child.restarts += 1

    def _next_wake(self, now: float) -> float:
        pending = [c.restart_at - now for c in self.children if c.restart_at is not None]
        return max(0.0, min([TICK, *pending]))

    def _publish(self) -> None:
        now = time.monotonic()
        upstatus.write(self.data, {c.name: c.status(now) for c in self.children})
        for c in self.children:
            c.published_failing = c.failing

    # Signals: SIGCHLD wakes the loop at once when a child dies (set_wakeup_fd writes a byte to
    # a pipe the loop waits on), so a restart does not wait for the next tick.
    def _catch_signals(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        signal.signal(signal.SIGCHLD, self._on_child)

    def _release_signals(self) -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(InterruptedError):
            ready, _, _ = select.select([self._wake_r], [], [], seconds)
            if ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)

    def _on_child(self, _signum: int, _frame: FrameType | None) -> None:
        pass  # the wakeup fd did the work

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        # Web first (no new work), then workers (they finish or hand back their job), Redis last.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        phases: dict[int, list[Child]] = {}
        for child in self.children:
            phases.setdefault({"web": 0, "redis": 2}.get(child.name, 1), []).append(child)
        for _, group in sorted(phases.items()):
            for child in group:  # all of a phase at once: N workers stop in parallel
                child.terminate()
            deadline = time.monotonic() + 15
            for child in group:
                child.reap(deadline)
        self.children.clear()
        upstatus.remove(self.data)


def main(host: str = "127.0.0.1", port: int = 8000, workers: int = 0) -> int:
    return Supervisor(host, port, workers or os.cpu_count() or 1).run()
