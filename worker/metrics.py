"""Numbers to watch, kept in Redis so every worker on every machine adds to one set.

Workers run as prefork pools on many hosts, so no single process could serve them all on
``/metrics``. Instead events go in pipelined round trips to the broker's Redis (the judge
already depends on it; sandbox runs are batched per grading), and the web server renders the
totals (web.metrics):

- ``verdict(queue, verdict, latency)``: a graded submission; counts verdicts per queue and puts
  the submission-to-verdict latency into a histogram per queue.
- ``sandbox_run(result)``: one sandbox run (compile, test, checker); a wall-time histogram,
  runs per sandbox verdict, CPU seconds, and OOM kills.
- ``syntax_check(decided_by)``, ``parser_started()``: Python syntax checks by where they were
  decided (the long-lived parser or a sandbox run), and parser boxes started.
- ``Heartbeat``: each worker node keeps a key with a short TTL; live keys are the worker count.

Metrics never get in the way of grading: after a failed round trip none is tried for
``RETRY_AFTER`` seconds, so a dead broker costs nothing per run, and the counts wait in the
process (summed) until Redis takes them: an outage delays the counters, it does not lose them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from typing import Any, cast

import redis
from sqlalchemy import Integer, Table, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Submission
from worker.redis_clients import PerProcess

log = logging.getLogger(__name__)

KEY = "judge:metrics:"
WORKER_KEY = "judge:worker:"
HEARTBEAT_EVERY = 5.0  # seconds
HEARTBEAT_TTL = 3 * HEARTBEAT_EVERY  # a node that missed three beats is gone

#: Submission-to-verdict seconds: interactive answers in about a second, batches in minutes.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
#: One sandbox run, wall seconds: from a 5 ms /bin/true to a compiler's several seconds.
RUN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

RETRY_AFTER = 5.0  # seconds without a round trip after a failed one; counts are kept meanwhile
FLUSH_EVERY = 1.0  # seconds: sandbox runs counted but not yet sent are at most this old

# Counts not yet in Redis, summed: (operation, key, field) -> amount. A failed send keeps them
# for the next one, so an outage delays the counters but does not lose them (it used to drop
# 30 s of events after each error). Summed, they stay a few hundred entries however long
# Redis is away; what a process holds when it dies is lost.
_lock = threading.Lock()
_pending: dict[tuple[str, str, str], float] = {}
_down_until = 0.0
_last_flush = 0.0


def broker_url() -> str:
    from store import env
    from worker.config import DEFAULT_REDIS_URL

    return env.text("JUDGE_REDIS_URL") or DEFAULT_REDIS_URL


_clients = PerProcess(broker_url, timeout=1)  # short: metrics must never stall grading


def client() -> redis.Redis:
    """This process's Redis client for metrics."""
    return _clients.get()


def bucket_field(buckets: tuple[float, ...], value: float) -> str:
    """The field of the first bucket ``value`` fits in (non-cumulative; +Inf past the last)."""
    for le in buckets:
        if value <= le:
            return f"le:{le:g}"
    return "le:+Inf"


def _add(op: str, key: str, field: str, amount: float) -> None:
    """Count `amount` (op: hincr, hincrf, incr, incrf) to send with the next round trip."""
    with _lock:
        _pending[(op, key, field)] = _pending.get((op, key, field), 0) + amount


def _send() -> None:
    """Send every count not yet sent, in one MULTI/EXEC: all of it lands or none does, so a
    failed send can be retried without counting anything twice."""
    global _down_until
    if time.monotonic() < _down_until:
        return
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    if not batch:
        return
    try:
        pipe = client().pipeline(transaction=True)
        for (op, key, field), amount in batch.items():
            if op == "hincr":
                pipe.hincrby(key, field, int(amount))
            elif op == "hincrf":
                pipe.hincrbyfloat(key, field, amount)
            elif op == "incr":
                pipe.incrby(key, int(amount))
            else:
                pipe.incrbyfloat(key, amount)
        pipe.execute()
    except (redis.RedisError, OSError) as e:
        with _lock:
            for entry, amount in batch.items():
                _pending[entry] = _pending.get(entry, 0) + amount
        _down_until = time.monotonic() + RETRY_AFTER
        log.warning("metrics: Redis refused them (%s); %d counters kept, retrying in %.0f s",
                    e, len(batch), RETRY_AFTER)  # fmt: skip


def pending() -> int:
    """How many counters wait for Redis in this process (0 when all are sent)."""
    with _lock:
        return len(_pending)


def _observe(key: str, buckets: tuple[float, ...], value: float) -> None:
    value = max(0.0, value)
    _add("hincr", key, bucket_field(buckets, value), 1)
    _add("hincr", key, "count", 1)
    _add("hincrf", key, "sum", value)


def verdict(queue: str, verdict: str, latency: float | None) -> None:
    """A submission got its final verdict (counted once: by the grading that finished it)."""
    _add("hincr", KEY + "verdicts", f"{queue}|{verdict}", 1)
    if latency is not None:
        _observe(f"{KEY}latency:{queue}", LATENCY_BUCKETS, latency)
    _send()


def sandbox_run(verdict: str, wall_time: float, cpu_time: float, oom_killed: bool) -> None:
    """Counted here and sent with the grading's verdict (or within FLUSH_EVERY seconds): a
    round trip per run cost a grading of ten tests 16 ms on a busy 2-core machine."""
    global _last_flush
    _observe(KEY + "sandbox_run", RUN_BUCKETS, wall_time)
    _add("hincr", KEY + "sandbox_verdicts", verdict, 1)
    _add("incrf", KEY + "sandbox_cpu_seconds", "", max(0.0, cpu_time))
    if oom_killed:
        _add("incr", KEY + "oom_kills", "", 1)
    with _lock:
        due = time.monotonic() - _last_flush >= FLUSH_EVERY
        if due:
            _last_flush = time.monotonic()
    if due:
        _send()


def syntax_check(decided_by: str) -> None:
    """A Python syntax check: decided by the worker's long-lived parser ("parser") or by a
    sandbox run of its own ("sandbox": the parser was off, busy, down, or the check failed
    and was confirmed in a box). Sent with the grading."""
    _add("hincr", KEY + "syntax_checks", decided_by, 1)


def parser_started() -> None:
    """A Python parser box started (the first of a process, or one replacing another: many
    per hour means parsers keep failing, and every check pays for a box)."""
    _add("incr", KEY + "python_parsers_started", "", 1)


def flush() -> None:
    """Send what was counted since the last send (end of every task)."""
    global _last_flush
    with _lock:
        _last_flush = time.monotonic()
    _send()


# Built once, on the table: building this read per grading took half of its 150 us.
_SUBMISSIONS = cast(Table, Submission.__table__).c
_GRADED = select(
    _SUBMISSIONS.queue, _SUBMISSIONS.verdict, _SUBMISSIONS.created_at, _SUBMISSIONS.finished_at
).where(_SUBMISSIONS.id == bindparam("b_id", type_=Integer()))


def graded(sessions: sessionmaker[Session], submission_id: int) -> None:
    """Count the verdict a grading just wrote (reads the row: the pipeline stays unaware)."""
    try:
        with sessions() as s:
            row = s.execute(_GRADED, {"b_id": submission_id}).first()
    except Exception:  # a database hiccup here must not fail the task that graded
        log.warning("metrics: could not read submission %s", submission_id, exc_info=True)
        return
    if row is None or row.verdict is None:
        return
    latency = None
    if row.created_at is not None and row.finished_at is not None:
        latency = (row.finished_at - row.created_at).total_seconds()
    verdict(row.queue, str(row.verdict), latency)


class Heartbeat(threading.Thread):
    """``judge:worker:<node>`` = {host, pid, concurrency, queues}, renewed every few seconds."""

    def __init__(self, node: str, info: dict[str, Any]) -> None:
        super().__init__(name="judge-heartbeat", daemon=True)
        self.key = WORKER_KEY + node
        self.value = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), **info})
        self._stop_event = threading.Event()
        self._ok = False

    def beat(self) -> bool:
        try:
            client().set(self.key, self.value, ex=int(HEARTBEAT_TTL))
            return True
        except (redis.RedisError, OSError) as e:
            log.warning("heartbeat: Redis unreachable (%s)", e)
            return False

    def begin(self) -> None:
        """Beat once now (the worker counts as soon as it says ready), then every few seconds."""
        self._ok = self.beat()
        self.start()

    def run(self) -> None:
        while not self._stop_event.wait(HEARTBEAT_EVERY):
            if self._ok:
                self._ok = self.beat()
            else:  # log an outage once, not every beat
                with contextlib.suppress(redis.RedisError, OSError):
                    client().set(self.key, self.value, ex=int(HEARTBEAT_TTL))
                    self._ok = True

    def stop(self) -> None:
        """Stop beating and drop the key, so the worker count falls at once."""
        self._stop_event.set()
        if self.is_alive():
            self.join(2)  # a beat in flight must not re-create the key after the delete
        with contextlib.suppress(redis.RedisError, OSError):  # else it expires by itself
            client().delete(self.key)
