"""The worker tests' judge: a database, a redis-server and Celery worker processes.

Loaded by file path from conftest.py and registered as ``worker_test_kit``: test directories are
not packages, and a plain ``import kit`` could pick up another directory's module of that name.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

import store
from store import Status, Submission
from worker.celery_app import GRADE_TASK

REPO = Path(__file__).resolve().parents[2]
servers: Any = sys.modules["judge_test_servers"]  # loaded by conftest.py before this module

# Short leases and a fast sweeper so recovery tests take seconds, not minutes.
TEST_SETTINGS = {
    "JUDGE_LEASE_SECONDS": "2",
    "JUDGE_SWEEP_INTERVAL": "0.5",
    "JUDGE_MAX_ATTEMPTS": "3",
    "JUDGE_RETRY_DELAY": "0.2",
    "JUDGE_REQUEUE_AFTER": "600",
}
FINISHED = (Status.DONE, Status.ERROR)
_names = itertools.count()


class CeleryWorker:
    """``python -m worker`` as a subprocess in its own session, stopped by its PID."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int, queues: str) -> None:
        self.log = log
        self.name = f"w{next(_names)}-{os.getpid()}@localhost"
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "worker", f"--queues={queues}",
                 f"--concurrency={concurrency}", "--loglevel=INFO", f"--hostname={self.name}"],
                env=env,
                cwd=REPO,
                stdout=log_fd,
                stderr=log_fd,
                start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(log_fd)
        servers.wait_until(self._ready, 60, f"Celery worker (log {log})")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{self.log.read_text(errors='replace')[-3000:]}")
        return " ready." in self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        """PIDs of the prefork pool processes."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool, as a crashed machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        servers.stop_process(self.proc, timeout=20)


class Judge:
    """A database, a broker and the workers grading from them."""

    def __init__(self, workdir: Path, db_url: str, redis: Any) -> None:
        self.workdir = workdir
        self.db_url = db_url
        self.redis = redis
        self.engine = store.init_db(db_url)
        self.sessions: sessionmaker[Session] = store.session_factory(self.engine)
        self.sender = Celery("judge-test-client", broker=redis.url)
        self.workers: list[CeleryWorker] = []
        self.env = {
            **os.environ,
            **TEST_SETTINGS,
            "PYTHONPATH": str(REPO),
            "JUDGE_DATABASE_URL": db_url,
            "JUDGE_REDIS_URL": redis.url,
        }

    def start_worker(self, concurrency: int = 2, queues: str = "interactive,batch") -> CeleryWorker:
        log = self.workdir / f"worker-{len(self.workers)}.log"
        w = CeleryWorker(self.env, log, concurrency, queues)
        self.workers.append(w)
        return w

    def add_problem(self, spec: dict[str, Any]) -> None:
        with self.sessions() as s:
            store.import_problem(s, spec)
            s.commit()

    def create(self, slug: str, language: str, source: str, queue: str = "interactive") -> int:
        from worker import create_submission

        with self.sessions() as s:
            sid = create_submission(s, slug, language, source, queue=queue).id
            s.commit()
        return sid

    def send(self, sid: int, queue: str = "interactive") -> None:
        # By task name, as the web layer does: the client never imports the task.
        self.sender.send_task(GRADE_TASK, args=[sid], queue=queue)

    def submit(self, slug: str, language: str, source: str, queue: str = "interactive") -> int:
        sid = self.create(slug, language, source, queue)
        self.send(sid, queue)
        return sid

    def wait(self, sids: Sequence[int], timeout: float = 60) -> dict[int, Submission]:
        """Poll the database (the source of truth) until every submission is finished."""
        deadline = time.monotonic() + timeout
        while True:
            with self.sessions() as s:
                rows = {
                    sub.id: sub
                    for sub in s.query(Submission).filter(Submission.id.in_(list(sids))).all()
                }
                if all(r.status in FINISHED for r in rows.values()) and len(rows) == len(sids):
                    for r in rows.values():
                        _ = r.results  # load while the session is open
                    return rows
            if time.monotonic() > deadline:
                states = {k: (v.status, v.attempts) for k, v in rows.items()}
                raise TimeoutError(f"not finished after {timeout} s: {states}\n{self.logs()}")
            time.sleep(0.02)

    def run(self, slug: str, language: str, source: str, timeout: float = 60) -> Submission:
        sid = self.submit(slug, language, source)
        return self.wait([sid], timeout)[sid]

    def logs(self) -> str:
        return "\n".join(w.log.read_text(errors="replace")[-4000:] for w in self.workers)

    def close(self) -> None:
        for w in self.workers:
            w.stop()
        self.engine.dispose()


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A package directory of our own: each file's text at its relative path under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
