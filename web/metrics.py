"""``GET /metrics`` in the Prometheus text format (version 0.0.4).

Where each number comes from:

- the broker: queue depth per queue (Celery's Redis lists, every priority step), messages
  delivered but not acknowledged, and live workers (heartbeat keys, worker.metrics);
- counters the workers keep in the same Redis (worker.metrics): verdicts per queue, the
  submission-to-verdict latency histogram per queue, sandbox run durations, runs per sandbox
  verdict, CPU seconds, OOM kills;
- the database: submissions per status and the age of the oldest queued one (the truth,
  whatever the broker says).

A source that does not answer is reported through ``judge_broker_up`` / ``judge_database_up``
and its series are left out; the endpoint itself always answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import func, select

from store import Submission, WebhookDelivery, utcnow
from store.vocab import Status
from web.deps import AppState
from worker import metrics as wm

QUEUES = ("interactive", "batch")
# Celery's Redis transport keeps a list per queue and priority step: "q", "q\x06\x163", ...
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label_value(v: object) -> str:
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help: str) -> None:
        self.lines += [f"# HELP {name} {help}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value: float, labels: Mapping[str, object] | None = None) -> None:
        if labels:
            inner = ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items())
            self.lines.append(f"{name}{{{inner}}} {_fmt(value)}")
        else:
            self.lines.append(f"{name} {_fmt(value)}")

    def histogram(
        self,
        name: str,
        buckets: Iterable[float],
        raw: Mapping[str, str],
        labels: Mapping[str, object] | None = None,
    ) -> None:
        """Samples of one histogram from a worker.metrics hash (non-cumulative bucket fields)."""
        labels = dict(labels or {})
        total = 0
        for le in buckets:
            total += int(raw.get(f"le:{le:g}", 0))
            self.sample(f"{name}_bucket", total, {**labels, "le": f"{le:g}"})
        count = int(raw.get("count", 0))
        self.sample(f"{name}_bucket", count, {**labels, "le": "+Inf"})
        self.sample(f"{name}_sum", float(raw.get("sum", 0)), labels)
        self.sample(f"{name}_count", count, labels)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _decode(d: Mapping[Any, Any]) -> dict[str, str]:
    def s(x: Any) -> str:
        return x.decode() if isinstance(x, bytes) else str(x)

    return {s(k): s(v) for k, v in d.items()}


async def broker_numbers(url: str) -> dict[str, Any] | None:
    """Everything /metrics reads from Redis, in two round trips; None when Redis is down."""
    client = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        workers: list[dict[str, Any]] = []
        keys = [k async for k in client.scan_iter(match=wm.WORKER_KEY + "*", count=1000)]
        pipe = client.pipeline(transaction=False)
        for q in QUEUES:
            for name in (q, *(f"{q}{_PRIORITY_SEP}{p}" for p in _PRIORITY_STEPS)):
                pipe.llen(name)
        pipe.hlen("unacked")
        pipe.hgetall(wm.KEY + "verdicts")
        for q in QUEUES:
            pipe.hgetall(f"{wm.KEY}latency:{q}")
        pipe.hgetall(wm.KEY + "sandbox_run")
        pipe.hgetall(wm.KEY + "sandbox_verdicts")
        pipe.get(wm.KEY + "sandbox_cpu_seconds")
        pipe.get(wm.KEY + "oom_kills")
        pipe.hgetall(wm.KEY + "syntax_checks")
        pipe.get(wm.KEY + "python_parsers_started")
        for k in keys:
            pipe.get(k)
        out = list(await pipe.execute())
    except (aioredis.RedisError, OSError):
        return None
    finally:
        await client.aclose()
    steps = 1 + len(_PRIORITY_STEPS)
    depth = {q: sum(int(n) for n in out[i * steps : (i + 1) * steps]) for i, q in enumerate(QUEUES)}
    rest = out[len(QUEUES) * steps :]
    unacked, verdicts = int(rest[0]), _decode(rest[1])
    latency = {q: _decode(rest[2 + i]) for i, q in enumerate(QUEUES)}
    run, run_verdicts, cpu, oom, checks, parsers = rest[2 + len(QUEUES) : 8 + len(QUEUES)]
    for value in rest[8 + len(QUEUES) :]:
        if value is not None:  # expired between SCAN and GET
            try:
                workers.append(json.loads(value))
            except ValueError:
                workers.append({})
    return {
        "depth": depth,
        "unacked": unacked,
        "verdicts": verdicts,
        "latency": latency,
        "run": _decode(run),
        "run_verdicts": _decode(run_verdicts),
        "cpu": float(cpu or 0),
        "oom": int(oom or 0),
        "syntax_checks": _decode(checks),
        "parsers": int(parsers or 0),
        "workers": workers,
    }


def database_numbers(state: AppState) -> dict[str, Any] | None:
    try:
        with state.sessions() as s:
            by_status = dict(
                s.execute(select(Submission.status, func.count()).group_by(Submission.status)).all()
            )
            oldest = dict(
                s.execute(
                    select(Submission.queue, func.min(Submission.created_at))
                    .where(Submission.status == Status.QUEUED)
                    .group_by(Submission.queue)
                ).all()
            )
            hooks = s.execute(
                select(WebhookDelivery.state, func.count(),
                       func.coalesce(func.sum(WebhookDelivery.attempts), 0))
                .group_by(WebhookDelivery.state)
            ).all()  # fmt: skip
    except Exception:  # any driver error means "database down", which is what we report
        return None
    now = utcnow()
    # min() keeps the column's type, so these are aware UTC datetimes on every backend.
    ages = {str(q): max(0.0, (now - t).total_seconds()) for q, t in oldest.items() if t}
    webhooks = {str(state): (int(n), int(tries)) for state, n, tries in hooks}
    return {"status": {str(k): int(v) for k, v in by_status.items()}, "oldest": ages,
            "webhooks": webhooks}  # fmt: skip


def render(broker: dict[str, Any] | None, db: dict[str, Any] | None) -> str:
    e = Exposition()
    e.family("judge_broker_up", "gauge", "Whether the broker (Redis) answered this scrape.")
    e.sample("judge_broker_up", 1 if broker is not None else 0)
    e.family("judge_database_up", "gauge", "Whether the database answered this scrape.")
    e.sample("judge_database_up", 1 if db is not None else 0)
    if broker is not None:
        e.family("judge_queue_depth", "gauge", "Messages waiting in each broker queue.")
        for q, n in broker["depth"].items():
            e.sample("judge_queue_depth", n, {"queue": q})
        e.family("judge_queue_unacked", "gauge",
                 "Messages handed to a worker and not yet acknowledged (running or delayed).")  # fmt: skip
        e.sample("judge_queue_unacked", broker["unacked"])
        workers = broker["workers"]
        e.family("judge_workers", "gauge", "Worker nodes alive (heartbeat in the last 15 s).")
        e.sample("judge_workers", len(workers))
        e.family("judge_worker_processes", "gauge", "Grading processes of the live workers.")
        e.sample("judge_worker_processes", sum(int(w.get("concurrency") or 0) for w in workers))
        e.family("judge_verdicts_total", "counter", "Submissions graded, by queue and verdict.")
        for key, n in sorted(broker["verdicts"].items()):
            queue, _, verdict = key.partition("|")
            e.sample("judge_verdicts_total", int(n), {"queue": queue, "verdict": verdict})
        e.family("judge_submission_latency_seconds", "histogram",
                 "Seconds from a submission's creation to its verdict, by queue.")  # fmt: skip
        for q, raw in broker["latency"].items():
            e.histogram("judge_submission_latency_seconds", wm.LATENCY_BUCKETS, raw, {"queue": q})
        e.family("judge_sandbox_run_seconds", "histogram",
                 "Wall seconds of each sandbox run (compiles, tests, checkers).")  # fmt: skip
        e.histogram("judge_sandbox_run_seconds", wm.RUN_BUCKETS, broker["run"])
        e.family("judge_sandbox_runs_total", "counter", "Sandbox runs by sandbox verdict.")
        for verdict, n in sorted(broker["run_verdicts"].items()):
            e.sample("judge_sandbox_runs_total", int(n), {"verdict": verdict})
        e.family("judge_sandbox_cpu_seconds_total", "counter", "CPU seconds used in sandboxes.")
        e.sample("judge_sandbox_cpu_seconds_total", broker["cpu"])
        e.family("judge_sandbox_oom_kills_total", "counter",
                 "Sandbox runs in which the kernel OOM-killed a process.")  # fmt: skip
        e.sample("judge_sandbox_oom_kills_total", broker["oom"])
        e.family("judge_python_syntax_checks_total", "counter",
                 "Python syntax checks, by what decided them: the worker's long-lived parser, "
                 "or a sandbox run of their own (parser off, busy or down; failed checks).")  # fmt: skip
        for by in ("parser", "sandbox"):
            e.sample("judge_python_syntax_checks_total",
                     int(broker["syntax_checks"].get(by, 0)), {"decided_by": by})  # fmt: skip
        e.family("judge_python_parsers_started_total", "counter",
                 "Python parser boxes started: one per worker process, plus one per "
                 "replacement (a crash, a hang, or its planned end of life).")  # fmt: skip
        e.sample("judge_python_parsers_started_total", broker["parsers"])
    if db is not None:
        e.family("judge_submissions", "gauge", "Submissions in the database by status.")
        for status in Status:
            e.sample("judge_submissions", db["status"].get(status.value, 0),
                     {"status": status.value})  # fmt: skip
        e.family("judge_oldest_queued_seconds", "gauge",
                 "Age of the oldest submission still queued, by queue (0: none waiting).")  # fmt: skip
        for q in QUEUES:
            e.sample("judge_oldest_queued_seconds", db["oldest"].get(q, 0.0), {"queue": q})
        hooks = db["webhooks"]
        e.family("judge_webhook_deliveries", "gauge",
                 "Webhook deliveries in the outbox by state: pending (the backlog), delivered, "
                 "failed (given up), refused (internal address).")  # fmt: skip
        for state in ("pending", "delivered", "failed", "refused"):
            e.sample("judge_webhook_deliveries", hooks.get(state, (0, 0))[0], {"state": state})
        e.family("judge_webhook_failed_tries_total", "counter",
                 "Webhook sends that did not get a 2xx (each retry counts).")  # fmt: skip
        tries = sum(t for _, t in hooks.values())
        e.sample("judge_webhook_failed_tries_total", tries - hooks.get("delivered", (0, 0))[0]
                 - hooks.get("refused", (0, 0))[0])  # fmt: skip
    return e.text()
