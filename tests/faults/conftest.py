"""Fault injection with real parts: redis-server, Celery workers, SQLite, a PostgreSQL we stop.

The helpers are tests/worker's (``judge_test_servers``, ``worker_test_kit``,
``worker_test_programs``), loaded by path under the same names so either directory can load first.
Every process a test starts is stopped by its own PID (or its own process group) at the end,
whether the test passed or not.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent


def _load(name: str, path: Path) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


servers = _load("judge_test_servers", TESTS / "store" / "servers.py")
kit = _load("worker_test_kit", TESTS / "worker" / "kit.py")
_load("worker_test_programs", TESTS / "worker" / "programs.py")


class RestartablePostgres(servers.PostgresServer):  # type: ignore[misc,name-defined]
    """A PostgreSQL of this test alone, which it may stop and start again on the same port and
    data (an operator restarting the database), unlike the session-wide one."""

    def halt(self) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, the data stays."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)

    def restart(self) -> None:
        log_fd = os.open(self.log, os.O_WRONLY | os.O_APPEND)
        try:
            self.proc = subprocess.Popen(
                [
                    *self._nobody_prefix(),
                    str(self.bindir / "postgres"), "-D", str(self.data),
                    "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.root),
                    "-c", "fsync=off", "-c", "full_page_writes=off",
                    "-c", "synchronous_commit=off", "-c", "max_connections=200",
                ],
                stdout=log_fd,
                stderr=log_fd,
                start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(log_fd)
        servers.wait_until(self._ready, 30, f"postgres on port {self.port} again")


@pytest.fixture
def own_postgres() -> Iterator[Any]:
    bindir = servers.postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (set JUDGE_TEST_PG_BIN to its bin directory)")
    pg = RestartablePostgres(bindir)
    pg.bindir = bindir
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def make_judge(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Judges with their own redis-server; ``settings`` override kit.TEST_SETTINGS for their
    workers. Workers, then Redis, are stopped after the test."""
    made: list[tuple[Any, Any]] = []

    def make(db_url: str | None = None, **settings: str) -> Any:
        workdir = tmp_path / f"judge{len(made)}"
        workdir.mkdir()
        redis = servers.RedisServer(workdir)
        j = kit.Judge(workdir, db_url or f"sqlite:///{workdir / 'judge.db'}", redis)
        j.env.update(settings)
        made.append((j, redis))
        return j

    try:
        yield make
    finally:
        for j, redis in made:
            with contextlib.suppress(Exception):
                j.close()
            redis.stop()
