"""A frozen Redis (SIGSTOP) does not hold a submit (issue 15, finding 7).

The broker connection had no socket timeout: ``POST /api/submissions`` waited 17.6 s for a
Redis that was stopped. Now the row is saved and the answer comes within a bound; the wake-up
is sent again later if it was lost. The test's own redis-server is stopped and always
continued in a finally.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.upkit import REPO, Web, seed, servers, submit

#: What "a bounded time" means here: the broker timeouts plus the request's own work.
BOUND = 5.0


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Any]:
    server = servers.RedisServer(tmp_path)
    try:
        yield server
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)  # a stopped process ignores SIGTERM
        server.stop()


def start_worker(workdir: Path, env: dict[str, str]) -> Any:
    log = workdir / "worker.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        import subprocess

        proc = subprocess.Popen(
            [sys.executable, "-m", "worker", "--concurrency", "1", "--hostname",
             f"faults-{os.getpid()}@x"],
            env=env, cwd=REPO, stdout=fd, stderr=fd, start_new_session=True,
        )  # fmt: skip
    finally:
        os.close(fd)
    return proc, log


def test_submit_answers_in_bounded_time_while_redis_is_frozen(tmp_path: Path, redis: Any) -> None:
    db_url = f"sqlite:///{tmp_path / 'judge.db'}"
    (token,) = seed(db_url, "root")
    web = Web(tmp_path, db_url, redis.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
    env.update(PYTHONPATH=str(REPO), JUDGE_DATA_DIR=str(tmp_path), JUDGE_DATABASE_URL=db_url,
               JUDGE_REDIS_URL=redis.url, JUDGE_SWEEP_INTERVAL="1",
               JUDGE_REQUEUE_AFTER="3")  # fmt: skip
    worker, worker_log = start_worker(tmp_path, env)
    try:
        with web.client(token) as c:
            servers.wait_until(lambda: " ready." in worker_log.read_text(), 60, "the worker")
            warm = submit(c)  # the web now holds a broker connection, as after any submit
            assert warm.status_code == 202, warm.text

            os.kill(redis.proc.pid, signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                r = submit(c)
                took = time.monotonic() - t0
                health_t0 = time.monotonic()
                health = c.get("/health")
                health_took = time.monotonic() - health_t0
                run_t0 = time.monotonic()
                run = c.post("/api/runs", json={"language": "python3", "source": "print(1)"})
                run_took = time.monotonic() - run_t0
            finally:
                os.kill(redis.proc.pid, signal.SIGCONT)
            print(f"\nsubmit with Redis frozen answered {r.status_code} in {took:.2f} s; "
                  f"/health {health.status_code} in {health_took:.2f} s; "
                  f"/api/runs {run.status_code} in {run_took:.2f} s")  # fmt: skip
            assert r.status_code == 202, r.text  # the row is saved: the work is not lost
            assert took < BOUND, took
            assert health.status_code == 503 and health.json()["broker"] == "unreachable"
            assert health_took < BOUND, health_took
            # An ad-hoc run needs the broker to answer at all: a prompt 503, not a held request.
            assert run.status_code == 503 and "retry-after" in run.headers, run.text
            assert run_took < BOUND, run_took

            # Redis continues: the submission made while it was frozen is graded.
            sid = r.json()["id"]
            deadline = time.monotonic() + 60
            while (body := c.get(f"/api/submissions/{sid}").json())["status"] != "done":
                assert time.monotonic() < deadline, body
                time.sleep(0.3)
            assert body["verdict"] == "AC", body
    finally:
        servers.stop_process(worker, timeout=20)
        web.stop()
