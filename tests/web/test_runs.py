"""``POST /api/runs`` is done by a Celery worker: the web only enqueues and waits on Redis."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import redis

stack_module = sys.modules["web_test_stack"]
servers = stack_module.servers
ECHO = {"language": "python3", "source": "print(input()[::-1])", "stdin": "hello\n"}
# Burns CPU until its 4 s limit: a run that takes longer than the web is told to wait.
SPIN = {"language": "python3", "source": "while True: pass\n", "limits": {"cpu_time": 4}}


def worker_logs(stack: Any) -> list[Path]:
    return [p.log for p in stack.processes if p.log.name.startswith("worker-")]


def ran(log: Path) -> list[tuple[str, str]]:
    """(run id, outcome) of every ad-hoc run a worker's log reports."""
    return re.findall(r"run ([0-9a-f]{32}): (\S+)", log.read_text(errors="replace"))


def test_a_run_happens_in_the_worker(stack: Any) -> None:
    with stack.client("alice") as c:
        r = c.post("/api/runs", json=ECHO)
        assert r.status_code == 200, r.text
        assert r.json()["verdict"] == "OK" and r.json()["stdout"] == "olleh\n"
        run_id = r.headers["x-run-id"]
        r = c.post("/api/runs", json={**ECHO, "source": "import sys; sys.exit(3)"})
        assert r.json()["exit_code"] == 3 and r.json()["verdict"] == "RE", r.text
    # The worker process ran it and said so; the reply list is gone once read.
    servers.wait_until(
        lambda: (run_id, "OK") in ran(worker_logs(stack)[0]), 10, "the worker's log line"
    )
    assert redis.Redis.from_url(stack.redis.url).keys("judge:run:*") == []


def test_no_worker_is_504_a_full_queue_503_and_stale_runs_are_dropped(tmp_path: Path) -> None:
    stack = stack_module.make_stack(tmp_path)
    try:
        url = stack.start_web(JUDGE_WAIT_TIMEOUT="3", JUDGE_MAX_QUEUED="1")
        stack.processes[0].stop()  # the only worker
        with stack.client("alice", url=url) as c:
            began = time.monotonic()
            r = c.post("/api/runs", json=ECHO)
            assert r.status_code == 504, r.text
            assert 2.5 < time.monotonic() - began < 8
            assert r.json()["error"] == "timeout" and r.headers["retry-after"] == "10"
            # That run's message still waits in the queue, which has room for one.
            r = c.post("/api/runs", json=ECHO)
            assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
            assert r.headers["retry-after"] == "10"

            # A new worker drops the expired message instead of running it for nobody.
            worker = stack.start_worker()
            r = c.post("/api/runs", json=ECHO)
            assert r.status_code == 200 and r.json()["stdout"] == "olleh\n", r.text
            # (The worker logs the run just after replying: wait for the line.)
            servers.wait_until(lambda: ran(worker.log), 10, "the worker's log line")
            assert ran(worker.log) == [(r.headers["x-run-id"], "OK")], worker.tail()

            # A run longer than the wait is a 504 too; its late reply expires unread.
            began = time.monotonic()
            r = c.post("/api/runs", json=SPIN)
            assert r.status_code == 504 and time.monotonic() - began < 8, r.text
            broker = redis.Redis.from_url(stack.redis.url)
            servers.wait_until(lambda: broker.keys("judge:run:*"), 30, "the late reply")
            (key,) = broker.keys("judge:run:*")
            assert 0 < broker.ttl(key) <= 120
            servers.wait_until(lambda: len(ran(worker.log)) == 2, 10, "the worker's log line")
            assert [outcome for _, outcome in ran(worker.log)] == ["OK", "TLE"], worker.tail()

            stack.redis.stop()
            r = c.post("/api/runs", json=ECHO)
            assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
            assert r.headers["retry-after"]
    finally:
        stack.stop()
