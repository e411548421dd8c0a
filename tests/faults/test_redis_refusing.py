"""A Redis that answers but refuses writes (out of memory, turned read-only) costs time, never
a worker or a submission (issue 15, finding 6). Both faults are real: `maxmemory 1` with the
default noeviction policy, and `REPLICAOF` an address nobody serves (which also unblocks the
workers' BRPOP with "UNBLOCKED ... master -> replica"). Before, the second killed the Celery
worker ("Unrecoverable error: ResponseError") and every submission after it waited forever."""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


def _stack_module() -> Any:
    name = "web_test_stack"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "web" / "stack.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


FAULTS: dict[str, tuple[Callable[[redis.Redis], Any], Callable[[redis.Redis], Any]]] = {
    "out-of-memory": (lambda r: r.config_set("maxmemory", 1),
                      lambda r: r.config_set("maxmemory", 0)),
    "read-only": (lambda r: r.execute_command("REPLICAOF", "127.0.0.1", "1"),
                  lambda r: r.execute_command("REPLICAOF", "NO", "ONE")),
}  # fmt: skip


def _graded(c: httpx.Client, sid: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = c.get(f"/api/submissions/{sid}").json()
        if body["status"] in ("done", "error") or time.monotonic() > deadline:
            return body
        time.sleep(0.25)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_redis_refusing_writes_loses_nothing(tmp_path: Path, fault: str) -> None:
    stack = _stack_module().make_stack(tmp_path, JUDGE_RESEND_AFTER="5")
    inject, clear = FAULTS[fault]
    r = redis.Redis.from_url(stack.redis.url)
    body = {"problem": "aplusb", "language": "python3", "source": AB_PY}
    try:
        worker = stack.processes[0].proc
        with stack.client("alice") as c:
            assert c.post("/api/submissions?wait=true", json=body).json()["verdict"] == "AC"
            inject(r)
            try:
                start = time.monotonic()
                during = c.post("/api/submissions", json=body)
                assert during.status_code == 202 and time.monotonic() - start < 5, during.text
                health = c.get("/health")
                assert health.status_code == 503
                assert health.json()["broker"] == "refusing writes", health.json()
                time.sleep(8)
                assert worker.poll() is None, stack.processes[0].tail()
            finally:
                clear(r)
            cleared = time.monotonic()
            first = _graded(c, during.json()["id"], 30)
            assert (first["status"], first["verdict"]) == ("done", "AC"), first
            after = c.post("/api/submissions", json=body).json()["id"]
            second = _graded(c, after, 30)
            assert (second["status"], second["verdict"]) == ("done", "AC"), second
            print(f"{fault}: graded {time.monotonic() - cleared:.1f} s after the fault cleared")
            assert c.get("/health").json()["broker"] == "ok"
    finally:
        r.close()
        stack.stop()
