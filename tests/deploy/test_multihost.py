"""Workers on other machines: Redis and PostgreSQL on this host, two workers each in its own
network namespace reaching them over a veth pair, one queue of 100 submissions.

Every submission is graded exactly once; then one worker is SIGKILLed in the middle of a
grading (stopped first, so "mid-grade" is certain) and nothing is lost: the other worker
finishes everything, the interrupted submission included.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

import store
from store import Status, Submission

servers: Any = sys.modules["judge_test_servers"]
REPO = Path(__file__).resolve().parents[2]
AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
PROBLEM = {
    "slug": "mh-aplusb",
    "title": "A+B on many machines",
    "time_limit": 2.0,
    "memory_limit": "256M",
    "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "40 2\n", "output": "42\n"}],
}
N = 100
DONE_LINE = re.compile(r"submission (\d+): (\w+)")


class RemoteWorker:
    """``python -m worker`` inside a machine's network namespace, in its own session."""

    def __init__(self, machine: Any, env: dict[str, str], log: Path) -> None:
        self.machine, self.log = machine, log
        argv = [sys.executable, "-m", "worker", "--queues", "batch", "--concurrency", "1",
                "--loglevel", "INFO", "--hostname", f"{machine.name}@{machine.ip}"]  # fmt: skip
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.proc = subprocess.Popen(machine.command(argv), env=env, cwd=REPO, stdout=fd,
                                         stderr=fd, start_new_session=True)  # fmt: skip
        finally:
            os.close(fd)

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{self.log.read_text(errors='replace')[-3000:]}")
        return " ready." in self.log.read_text(errors="replace")

    def pool(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def graded(self) -> collections.Counter[int]:
        """How many times this worker logged each submission as graded ("done")."""
        found = DONE_LINE.findall(self.log.read_text(errors="replace"))
        return collections.Counter(int(sid) for sid, outcome in found if outcome == "done")

    def stop(self) -> None:
        servers.stop_process(self.proc, timeout=20)


@pytest.fixture
def cluster(machines: list[Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    bindir = servers.postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (set JUDGE_TEST_PG_BIN to its bin directory)")
    hosts = [m.host_ip for m in machines]
    pg = servers.PostgresServer(bindir, listen=hosts, trust=[f"{m.ip}/32" for m in machines])
    redis = None
    workers: list[RemoteWorker] = []
    try:
        redis = servers.RedisServer(tmp_path, bind=hosts, password="multihost-secret")
        url = pg.create_database("judge_multihost")
        engine = store.init_db(url)
        sessions = store.session_factory(engine)
        with sessions() as s:
            store.import_problem(s, PROBLEM)
            s.commit()
        base = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
        for i, m in enumerate(machines):
            env = {
                **base,
                "PYTHONPATH": str(REPO),
                "JUDGE_DATA_DIR": str(tmp_path / f"machine-{i}"),
                # The host as this machine sees it: over the veth pair, never loopback.
                "JUDGE_REDIS_URL": f"redis://:{redis.password}@{m.host_ip}:{redis.port}/0",
                "JUDGE_DATABASE_URL": f"postgresql://postgres@{m.host_ip}:{pg.port}/judge_multihost",
                "JUDGE_LEASE_SECONDS": "3",
                "JUDGE_SWEEP_INTERVAL": "0.5",
            }
            workers.append(RemoteWorker(m, env, tmp_path / f"worker-{i}.log"))
        for w in workers:
            servers.wait_until(w.ready, 60, f"worker in {w.machine.name} ({w.log})")
        yield {"pg": pg, "redis": redis, "engine": engine, "sessions": sessions,
               "workers": workers, "machines": machines}  # fmt: skip
    finally:
        for w in workers:
            w.stop()
        if redis is not None:
            redis.stop()
        pg.stop()


def submit_many(sessions: sessionmaker[Session], sender: Celery, n: int) -> list[int]:
    from worker import create_submission

    with sessions() as s:
        ids = [create_submission(s, PROBLEM["slug"], "python3", AB_PY, queue="batch").id
               for _ in range(n)]  # fmt: skip
        s.commit()
    for sid in ids:  # by task name, the way the web sends them
        sender.send_task("judge.grade", args=[sid], queue="batch")
    return ids


def wait_finished(
    sessions: sessionmaker[Session], ids: Sequence[int], timeout: float
) -> dict[int, Submission]:
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as s:
            rows = {r.id: r for r in s.scalars(select(Submission).where(Submission.id.in_(ids)))}
        left = [r.id for r in rows.values() if r.status not in (Status.DONE, Status.ERROR)]
        if not left:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(left)} of {len(ids)} not finished: {left[:10]}")
        time.sleep(0.2)


def test_two_machines_grade_one_queue_exactly_once_and_lose_nothing(
    cluster: dict[str, Any],
) -> None:
    sessions, workers, machines = cluster["sessions"], cluster["workers"], cluster["machines"]
    redis_port = cluster["redis"].port

    # The machines really are elsewhere: the host's Redis is not on their loopback.
    probe = "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)"
    for m in machines:
        far = subprocess.run(m.command([sys.executable, "-c", probe, "127.0.0.1", str(redis_port)]),
                             capture_output=True, timeout=30)  # fmt: skip
        near = subprocess.run(m.command([sys.executable, "-c", probe, m.host_ip, str(redis_port)]),
                              capture_output=True, timeout=30)  # fmt: skip
        assert far.returncode != 0 and near.returncode == 0, (far.stderr, near.stderr)

    sender = Celery("multihost-client", broker=cluster["redis"].url)
    try:
        # 1. One queue of 100: every submission graded exactly once, by one of the two.
        start = time.monotonic()
        ids = submit_many(sessions, sender, N)
        rows = wait_finished(sessions, ids, 180)
        elapsed = time.monotonic() - start
        assert {(r.status, r.verdict) for r in rows.values()} == {(Status.DONE, "AC")}
        assert all(r.attempts == 1 for r in rows.values())
        counts = [w.graded() for w in workers]
        total = counts[0] + counts[1]
        assert set(total) == set(ids) and set(total.values()) == {1}, total
        assert all(sum(c.values()) > 0 for c in counts), "both machines must have graded"
        # Their connections come from their own addresses, through the veth pairs.
        with cluster["engine"].connect() as conn:
            clients = set(conn.execute(text(
                "SELECT host(client_addr) FROM pg_stat_activity "
                "WHERE datname = 'judge_multihost' AND client_addr IS NOT NULL"
            )).scalars())  # fmt: skip
        assert {m.ip for m in machines} <= clients, clients
        print(f"\n{N} submissions on 2 machines: {elapsed:.1f} s "
              f"({counts[0].total()} + {counts[1].total()})")  # fmt: skip

        # 2. Another 100; machine A dies in the middle of a grading (SIGKILL, whole worker).
        ids2 = submit_many(sessions, sender, N)
        victim, survivor = workers
        owners = {f"{socket.gethostname()}:{pid}" for pid in victim.pool()}

        def victim_mid_grade() -> bool:
            with sessions() as s:
                return s.scalars(select(Submission.id).where(
                    Submission.id.in_(ids2), Submission.lease_owner.in_(owners),
                    Submission.status.in_((Status.COMPILING, Status.RUNNING)),
                )).first() is not None  # fmt: skip

        def freeze_victim_mid_grade() -> list[int]:
            # A grading takes tens of milliseconds, so the one seen in flight may finish before
            # SIGSTOP lands; then A is frozen between tasks. Thaw it and catch the next one.
            for _ in range(50):
                servers.wait_until(victim_mid_grade, 60, "machine A grading a submission")
                os.killpg(victim.proc.pid, signal.SIGSTOP)
                with sessions() as s:
                    caught = list(s.scalars(select(Submission.id).where(
                        Submission.id.in_(ids2), Submission.lease_owner.in_(owners),
                        Submission.status.in_((Status.COMPILING, Status.RUNNING)),
                    )))  # fmt: skip
                if caught:
                    return caught
                os.killpg(victim.proc.pid, signal.SIGCONT)
            raise AssertionError("machine A was never frozen in the middle of a grading")

        interrupted = freeze_victim_mid_grade()
        os.killpg(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(10)
        killed_at, killed_utc = time.monotonic(), store.utcnow()

        rows2 = wait_finished(sessions, ids2, 180)
        recovery = time.monotonic() - killed_at
        assert {(r.status, r.verdict) for r in rows2.values()} == {(Status.DONE, "AC")}
        assert len(interrupted) == 1, interrupted  # concurrency 1: exactly one was in flight
        again = rows2[interrupted[0]]
        assert again.attempts == 2 and again.lease_owner not in owners
        graded = victim.graded() + survivor.graded()
        assert set(graded) >= set(ids2) and all(graded[i] == 1 for i in ids2), graded
        assert again.finished_at is not None
        regraded = (again.finished_at - killed_utc).total_seconds()
        print(
            f"{N} more, machine A killed mid-grade: the interrupted submission done "
            f"{regraded:.1f} s after the kill (lease 3 s), all {recovery:.1f} s after"
        )
    finally:
        with contextlib.suppress(Exception):
            sender.close()
