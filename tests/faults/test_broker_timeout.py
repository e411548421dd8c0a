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

import httpx
import pytest

from tests.faults.upkit import AB_PY, REPO, Web, seed, servers, submit

#: What "a bounded time" means here: the broker timeouts plus the request's own work.
BOUND = 5.0
FREEZE = 10.0
SLOW_AB_PY = "import time\ntime.sleep(0.6)\n" + AB_PY


def wait_done(c: httpx.Client, sid: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (body := c.get(f"/api/submissions/{sid}").json())["status"] not in ("done", "error"):
        assert time.monotonic() < deadline, body
        time.sleep(0.3)
    result: dict[str, Any] = body
    return result


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
            assert wait_done(c, warm.json()["id"])["verdict"] == "AC"
            # This one is still being graded when Redis freezes, so the worker's ack waits on
            # the frozen Redis: the worker must keep consuming afterwards.
            slow = c.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                                    "source": SLOW_AB_PY})  # fmt: skip
            assert slow.status_code == 202, slow.text
            servers.wait_until(lambda: worker_log.read_text().count("] received") >= 2, 10,
                               "the worker to take the slow submission")  # fmt: skip

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
                # Frozen long enough that a worker read timeout of a few seconds would fire
                # during the ack (what a worker must survive).
                time.sleep(max(0.0, FREEZE - (time.monotonic() - t0)))
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

            # Redis continues: both the one graded across the freeze and the one made during
            # it are graded.
            for sid in (slow.json()["id"], r.json()["id"]):
                body = wait_done(c, sid)
                assert body["verdict"] == "AC", (body, worker_log.read_text()[-3000:])
    finally:
        servers.stop_process(worker, timeout=20)
        web.stop()
