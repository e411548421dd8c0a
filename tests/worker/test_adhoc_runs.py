"""worker.runs: the reply an ad-hoc run sends back to the web, and how it is delivered."""

from __future__ import annotations

import json
from typing import Any

import redis

import sandbox
from worker import runs


def test_replies_map_errors_to_http_statuses() -> None:
    ok = runs.execute("python3", "print(input() * 2)", "ab\n", {})
    assert ok["ok"] and ok["result"]["verdict"] == "OK" and ok["result"]["stdout"] == "abab\n"
    ce = runs.execute("c", "int main( {", "", {})
    assert (
        ce["ok"] and ce["result"]["status"] == "compile_error" and ce["result"]["verdict"] == "CE"
    )
    unknown = runs.execute("cobol", "x", "", {})
    assert not unknown["ok"] and unknown["status"] == 422 and "cobol" in unknown["detail"]
    assert runs.execute("python3", "x", "", {"cpu_time": 1000})["status"] == 422

    def broken(cmd: list[str], limits: Any = None, **_: Any) -> sandbox.Result:
        raise sandbox.SandboxError("no cgroup for you")

    failed = runs.execute("python3", "print(1)", "", {}, run=broken)
    assert failed["status"] == 503 and "no cgroup for you" in failed["detail"]


def test_a_reply_waits_on_its_list_and_expires(redis_server: Any) -> None:
    client = redis.Redis.from_url(redis_server.url)
    runs.deliver("abc", {"ok": True, "result": {}}, client)
    key = runs.reply_key("abc")
    assert 0 < client.ttl(key) <= runs.REPLY_TTL
    popped = client.blpop([key], timeout=1)
    assert popped is not None and json.loads(popped[1]) == {"ok": True, "result": {}}
    assert not client.exists(key)
