"""A database that is down or a disk that is full: 503 with Retry-After, never 500, and the
keep-alive connection survives (issue 15, finding 5).

Real parts: a PostgreSQL stopped and started again under a running ``judge web``; SQLite on a
small tmpfs this test mounts and fills. A client that reuses one connection checks, by its local
port, that the server never closed it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import store
from tests.faults.upkit import AB_PY, Web, seed, servers


def local_port(r: httpx.Response) -> int:
    """The client-side port of the connection that carried ``r``: same port, same connection."""
    port: int = r.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


def assert_503(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.status_code, r.text)
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["error"] == "unavailable", r.text


def submit(c: httpx.Client) -> httpx.Response:
    return c.post("/api/submissions",
                  json={"problem": "aplusb", "language": "python3", "source": AB_PY})  # fmt: skip


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Any]:
    server = servers.RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres() -> Iterator[Any]:
    bindir = servers.postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (set JUDGE_TEST_PG_BIN to its bin directory)")
    server = servers.PostgresServer(bindir)
    server.bindir = bindir
    try:
        yield server
    finally:
        server.stop()


def stop_postgres(pg: Any) -> None:
    pg.proc.send_signal(signal.SIGINT)  # "fast" shutdown: clients are cut off now
    pg.proc.wait(30)


def start_postgres_again(pg: Any) -> None:
    """The same cluster on the same port (the fixture's stop() then stops this process)."""
    fd = os.open(pg.log, os.O_WRONLY | os.O_APPEND)
    try:
        pg.proc = subprocess.Popen(
            [*pg._nobody_prefix(), str(pg.bindir / "postgres"), "-D", str(pg.data),
             "-h", "127.0.0.1", "-p", str(pg.port), "-k", str(pg.root), "-c", "fsync=off"],
            stdout=fd, stderr=fd, start_new_session=True,
        )  # fmt: skip
    finally:
        os.close(fd)
    servers.wait_until(pg._ready, 30, "postgres again")


def test_postgres_down_is_503_on_a_kept_connection(
    tmp_path: Path, postgres: Any, redis: Any
) -> None:
    db_url = postgres.create_database("faults503")
    (token,) = seed(db_url, "root")
    web = Web(tmp_path, db_url, redis.url)
    try:
        with web.client(token) as c:
            first = c.get("/api/problems")
            assert first.status_code == 200 and first.json()[0]["slug"] == "aplusb"
            port = local_port(first)

            stop_postgres(postgres)
            for r in (c.get("/api/problems"), c.get("/api/submissions"),
                      c.get("/api/problems/aplusb"), submit(c)):  # fmt: skip
                assert_503(r)
                assert local_port(r) == port  # the server kept the connection
            health = c.get("/health")
            assert health.status_code == 503 and health.json()["database"] == "unreachable"

            t0 = time.monotonic()
            start_postgres_again(postgres)
            # Poll faster than uvicorn's 5 s keep-alive timeout, so only an error could close it.
            while (r := c.get("/api/problems")).status_code != 200:
                assert_503(r)
                assert time.monotonic() - t0 < 30
                time.sleep(0.3)
            assert local_port(r) == port
            print(f"\nPostgreSQL back: the API answered 200 {time.monotonic() - t0:.2f} s after "
                  "the restart began, on the same connection")  # fmt: skip
            created = submit(c)
            assert created.status_code == 202, created.text
            assert local_port(created) == port
        assert "Traceback" not in web.log.read_text(errors="replace")
    finally:
        web.stop()


@contextlib.contextmanager
def small_tmpfs(size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on a fresh temp dir, unmounted and removed afterwards."""
    where = Path(tempfile.mkdtemp(prefix="judge-full-"))
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                       check=True, capture_output=True)  # fmt: skip
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {e}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill(directory: Path) -> None:
    """Write until the file system says ENOSPC, in smaller and smaller pieces."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 20, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


def test_full_disk_reads_work_and_writes_are_503(tmp_path: Path, redis: Any) -> None:
    with small_tmpfs("16m") as disk:
        db_file = disk / "judge.db"
        db_url = f"sqlite:///{db_file}"
        admin, fresh = seed(db_url, "root", "alice")
        web = Web(tmp_path, db_url, redis.url)
        try:
            with web.client(admin) as c:
                assert c.get("/api/submissions").status_code == 200  # opens the db (and -shm)
                port = local_port(c.get("/api/problems"))
                # Empty the WAL, so that any write must grow a file on the full disk.
                engine = store.make_engine(db_url)
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                engine.dispose()
                fill(disk)

                # A write: 503 with Retry-After on the same connection, not a 500.
                r = submit(c)
                assert_503(r)
                assert local_port(r) == port
                r = c.get("/api/problems")
                assert r.status_code == 200 and local_port(r) == port
            # A token never used before: its last-use write is due now and fails on the full
            # disk, but only in the background; the read itself answers 200, twice.
            with web.client(fresh) as c:
                for _ in range(2):
                    r = c.get("/api/submissions")
                    assert r.status_code == 200 and r.json() == [], r.text
            servers.wait_until(
                lambda: "could not record the use of token" in web.log.read_text(), 10,
                "the failed last-use write in the log",
            )  # fmt: skip
            (disk / "filler").unlink()
            with web.client(admin) as c:
                assert submit(c).status_code == 202  # room again: writes work again
        finally:
            web.stop()
