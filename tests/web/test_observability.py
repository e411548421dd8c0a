"""Numbers to watch: /metrics in the Prometheus text format, /health, JSON log lines."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

stack_module = sys.modules["web_test_stack"]
AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
# Touches every page of 600 MB under a 256 MB limit: the kernel's OOM killer ends it.
HOG_PY = "s = 'x' * (600 << 20)\nprint(len(s))\n"

_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$'
)


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """A strict reader of the text format: every family declared, every line well formed."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, f"family {name} declared twice"
            types[name] = kind
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{name} has no # TYPE"
        if types[family] == "counter":
            assert name.endswith("_total"), name
        key = tuple(sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels)))
        assert key not in samples.get(name, {}), f"duplicate sample {line!r}"
        samples.setdefault(name, {})[key] = float(value)
    for family, kind in types.items():
        if kind == "histogram":
            check_histogram(samples, family)
    return samples


def check_histogram(samples: dict[str, Any], family: str) -> None:
    buckets = samples.get(f"{family}_bucket", {})
    series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    for key, value in buckets.items():
        rest = tuple(kv for kv in key if kv[0] != "le")
        le = dict(key)["le"]
        series.setdefault(rest, []).append((math.inf if le == "+Inf" else float(le), value))
    for rest, points in series.items():
        points.sort()
        counts = [v for _, v in points]
        assert counts == sorted(counts), f"{family}{rest}: buckets must be cumulative"
        assert points[-1][0] == math.inf
        assert points[-1][1] == samples[f"{family}_count"][rest]
        assert rest in samples[f"{family}_sum"]


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    return float(samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0))


def test_metrics_count_verdicts_latency_runs_and_oom_kills(stack: Any) -> None:
    with stack.client("alice") as c, stack.client("admin") as admin:
        before = parse(admin.get("/metrics").text)
        verdicts = []
        for source in (AB_PY, HOG_PY, "print(1 +\n"):
            r = c.post("/api/submissions?wait=true",
                       json={"problem": "aplusb", "language": "python3", "source": source})  # fmt: skip
            assert r.status_code == 200, r.text
            verdicts.append(r.json())
        hog, broken = verdicts[1:]
        assert hog["verdict"] == "MLE" and hog["tests"][0]["oom_killed"], hog
        assert broken["verdict"] == "CE", broken
        m = admin.get("/metrics")
    assert m.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = parse(m.text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("judge_verdicts_total", queue="interactive", verdict="AC") == 1
    assert delta("judge_verdicts_total", queue="interactive", verdict="MLE") == 1
    assert delta("judge_verdicts_total", queue="interactive", verdict="CE") == 1
    assert delta("judge_submission_latency_seconds_count", queue="interactive") == 3
    assert delta("judge_submission_latency_seconds_sum", queue="interactive") > 0
    # A+B has five tests and the hog stops at its first. Their syntax checks passed in the
    # worker's long-lived parser (JUDGE_PYTHON_PARSER), not in sandbox runs of their own;
    # the broken source's failed check is confirmed in one (the check exits 1: RE).
    assert delta("judge_python_syntax_checks_total", decided_by="parser") == 2
    assert delta("judge_python_syntax_checks_total", decided_by="sandbox") == 1
    assert value(after, "judge_python_parsers_started_total") >= 1
    assert delta("judge_sandbox_run_seconds_count") == 7
    assert delta("judge_sandbox_runs_total", verdict="OK") == 5
    assert delta("judge_sandbox_runs_total", verdict="MLE") == 1
    assert delta("judge_sandbox_runs_total", verdict="RE") == 1
    assert delta("judge_sandbox_oom_kills_total") == 1
    assert delta("judge_sandbox_cpu_seconds_total") > 0
    assert value(after, "judge_workers") == 1
    assert value(after, "judge_worker_processes") == 2
    assert value(after, "judge_broker_up") == value(after, "judge_database_up") == 1
    assert value(after, "judge_queue_depth", queue="batch") == 0
    assert value(after, "judge_submissions", status="queued") == 0
    assert value(after, "judge_oldest_queued_seconds", queue="interactive") == 0
    assert value(after, "judge_submissions", status="done") >= 2


def test_health_names_what_is_down(tmp_path: Path) -> None:
    stack = stack_module.make_stack(tmp_path)
    try:
        with stack.client() as c:
            assert c.get("/health").json()["status"] == "ok"
            stack.redis.stop()
            r = c.get("/health")
            assert r.status_code == 503
            assert r.json() == {"status": "degraded", "database": "ok", "broker": "unreachable",
                                "workers": None}  # fmt: skip
            with stack.client("admin") as admin:
                m = parse(admin.get("/metrics").text)
            assert value(m, "judge_broker_up") == 0 and value(m, "judge_database_up") == 1
            assert "judge_queue_depth" not in m
    finally:
        stack.stop()


def test_json_logs_from_web_and_worker(tmp_path: Path) -> None:
    stack = stack_module.make_stack(tmp_path, JUDGE_LOG_FORMAT="json")
    servers = stack_module.servers
    try:
        # A web server at the default log level, so its access lines show too.
        port = servers.free_port()
        web_log = tmp_path / "web-json.log"
        web = stack_module.Process([sys.executable, "-m", "web.cli", "web", "--port", str(port)],
                                   stack.env, web_log, stack_module.REPO)  # fmt: skip
        stack.processes.append(web)
        servers.wait_until(lambda: web.alive() and servers.port_open(port), 30, "web")
        with stack.client("alice", url=f"http://127.0.0.1:{port}") as c:
            r = c.post("/api/submissions?wait=true",
                       json={"problem": "aplusb", "language": "python3", "source": AB_PY})  # fmt: skip
            assert r.json()["verdict"] == "AC", r.text
            sid = r.json()["id"]
    finally:
        stack.stop()
    worker_log = next(tmp_path.glob("worker-*.log"))
    records = {}
    for log in (worker_log, web_log):
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        assert lines, log
        parsed = []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"{log.name}: not a JSON line: {line!r}") from None
        for rec in parsed:
            assert {"ts", "level", "logger", "msg", "component", "pid"} <= rec.keys(), rec
        records[log] = parsed
    graded = [r for r in records[worker_log] if r.get("submission_id") == sid]
    assert graded and graded[0]["outcome"] == "done" and graded[0]["component"] == "worker"
    assert graded[0]["task_id"] and graded[0]["task"] == "judge.grade"
    assert any(r["msg"].endswith(" ready.") for r in records[worker_log])
    assert all(r["component"] == "web" for r in records[web_log])
    access = [r for r in records[web_log] if r["logger"] == "uvicorn.access"]
    assert any(r["method"] == "POST" and r["path"].startswith("/api/submissions")
               and r["status"] == 200 for r in access), access  # fmt: skip
