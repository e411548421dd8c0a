"""Real services for tests: a PostgreSQL and a redis-server on free loopback ports.

Every process is started in its own session and stopped by its own PID (then its process group,
which only it and its children are in), so cleanup never touches anything these helpers did not
start. Loaded by file path from tests/worker/conftest.py too, so it imports nothing from tests.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

NOBODY = 65534


def postgres_bin() -> Path | None:
    """Where initdb and postgres live: $JUDGE_TEST_PG_BIN, /usr/local/bin, or Debian's layout."""
    candidates = [os.environ.get("JUDGE_TEST_PG_BIN", ""), "/usr/local/bin"]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and os.path.exists(os.path.join(c, "postgres")):
            return Path(c)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate a process we started (and its group), escalating to SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout)
    # Children left in the group (e.g. pool processes of a killed Celery worker). The group id is
    # the PID of the process we started with start_new_session=True, so this is still "by PID".
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class RedisServer:
    """``bind``: more addresses to listen on besides 127.0.0.1 (a test's own veth ends);
    Redis then wants a ``password`` (protected mode refuses other clients without one)."""

    def __init__(self, workdir: Path, bind: Sequence[str] = (), password: str = "") -> None:
        self.port = free_port()
        self.password = password
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self.log = workdir / f"redis-{self.port}.log"
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port", str(self.port),
                "--bind", " ".join(["127.0.0.1", *bind]),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(workdir),
                "--logfile", str(self.log),
                *(["--requirepass", password] if password else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        wait_until(lambda: self._up(), 15, f"redis-server on port {self.port}")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited: {self.log.read_text(errors='replace')}")
        return port_open(self.port)

    def stop(self) -> None:
        stop_process(self.proc)


class PostgresServer:
    """A throw-away PostgreSQL cluster owned by ``nobody`` (postgres refuses to run as root).

    ``listen``: more addresses to listen on besides 127.0.0.1; ``trust``: client networks
    (CIDR) allowed in without a password, besides loopback.
    """

    def __init__(self, bindir: Path, listen: Sequence[str] = (), trust: Sequence[str] = ()) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="judge-pg-"))
        os.chown(self.root, NOBODY, NOBODY)
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        self._as_nobody(
            [str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--no-sync"],
        )  # fmt: skip
        if trust:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.writelines(f"host all all {net} trust\n" for net in trust)
        log_fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            self.proc = subprocess.Popen(
                [
                    *self._nobody_prefix(),
                    str(bindir / "postgres"), "-D", str(self.data),
                    "-h", ",".join(["127.0.0.1", *listen]), "-p", str(self.port),
                    "-k", str(self.root),
                    # Durability is not under test here; speed is welcome.
                    "-c", "fsync=off", "-c", "full_page_writes=off",
                    "-c", "synchronous_commit=off", "-c", "max_connections=200",
                ],
                stdout=log_fd,
                stderr=log_fd,
                start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(log_fd)
        wait_until(self._ready, 30, f"postgres on port {self.port}")

    @staticmethod
    def _nobody_prefix() -> list[str]:
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

    def _as_nobody(self, cmd: Sequence[str]) -> None:
        subprocess.run(
            self._nobody_prefix() + list(cmd), check=True, capture_output=True, cwd=self.root
        )

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"postgres exited: {self.log.read_text(errors='replace')}")
        import psycopg

        try:
            with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def dsn(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        # SIGTERM is postgres's "smart" shutdown, which waits for clients; SIGINT is "fast".
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(15)
        stop_process(self.proc)
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_session() -> Iterator[PostgresServer]:
    """The body of the session-wide `postgres` fixture that tests/store and tests/worker
    share: one real server, stopped at the end; a skip with the reason where none exists."""
    import pytest

    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (set JUDGE_TEST_PG_BIN to its bin directory)")
    server = PostgresServer(bindir)
    try:
        yield server
    finally:
        server.stop()
