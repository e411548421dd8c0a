"""Ad-hoc runs (``POST /api/runs``) done by a worker, answered through Redis, not Celery.

The protocol both sides share:

1. the web picks a run id and sends ``judge.run`` by name (:func:`send`) on the interactive queue,
   with an expiry equal to how long it will wait: a worker that gets the message later discards it
   instead of running a program nobody waits for;
2. the worker compiles and runs the program in the sandbox (:func:`execute`, via worker.oneshot)
   and pushes one JSON reply on the Redis list :func:`reply_key` (:func:`deliver`), which expires
   after :data:`REPLY_TTL` seconds whether or not anyone reads it;
3. the web waits with ``BLPOP`` on that list (redis' asyncio client: no thread per waiting client).

A list, not pub/sub: a reply pushed before the web starts listening is still there when it does,
and it disappears on its own. There is no Celery result backend (results live in our stores); a
duplicate delivery runs the program again and pushes a second reply that nobody reads and that
expires with the first.

A reply is ``{"ok": true, "result": {...}, "worker": "host:pid"}`` where result has the fields of
the API's RunOut, or ``{"ok": false, "status": 422 | 503, "detail": text, "worker": ...}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import redis

from worker.errors import InternalError
from worker.execution import Runner, sandbox_runner
from worker.oneshot import run_once
from worker.redis_clients import PerProcess

log = logging.getLogger(__name__)

QUEUE = "interactive"
#: Seconds a reply waits in Redis for its reader; the reader normally takes it at once.
REPLY_TTL = 120
_PREFIX = "judge:run:"



def reply_key(run_id: str) -> str:
    return _PREFIX + run_id


def redis_url() -> str:
    """The Redis the Celery app sends to; replies travel through the same one."""
    from worker.celery_app import settings

    return settings.redis_url


def send(
    run_id: str,
    language: str,
    source: str,
    stdin: str,
    limits: Mapping[str, Any],
    *,
    expires: float,
) -> None:
    """Enqueue one ad-hoc run by task name; raises whatever the broker client raises."""
    from worker.celery_app import RUN_TASK, app

    app.send_task(
        RUN_TASK, args=[run_id, language, source, stdin, dict(limits)], queue=QUEUE,
        expires=expires,
    )  # fmt: skip


def execute(
    language: str,
    source: str,
    stdin: str,
    limits: Mapping[str, Any],
    *,
    run: Runner = sandbox_runner,
) -> dict[str, Any]:
    """Compile and run in the sandbox; the reply for the web (without ``worker``)."""
    try:
        shot = run_once(language, source, stdin, limits, run=run)
    except InternalError as e:
        log.warning("ad-hoc run: the sandbox failed: %s", e)
        return {"ok": False, "status": 503, "detail": f"the sandbox failed: {e}"}
    except ValueError as e:  # unknown language on this host, bad limits
        return {"ok": False, "status": 422, "detail": str(e)}
    r = shot.result
    if r is None:
        result: dict[str, Any] = {
            "status": "compile_error", "verdict": "CE", "compile_output": shot.compile_output,
            "exit_code": None, "signal": None, "cpu_time": None, "wall_time": None,
            "memory": None, "oom_killed": False, "stdout": "", "stderr": "",
            "message": "compilation failed",
        }  # fmt: skip
    else:
        result = {
            "status": "done",
            "verdict": str(r.verdict),
            "compile_output": shot.compile_output or None,
            "exit_code": r.exit_code,
            "signal": r.signal,
            "cpu_time": r.cpu_time,
            "wall_time": r.wall_time,
            "memory": r.memory_peak,
            "oom_killed": r.oom_killed,
            "stdout": r.stdout.decode("utf-8", "replace"),
            "stderr": r.stderr.decode("utf-8", "replace"),
            "message": r.message,
        }
    return {"ok": True, "result": result}


_clients = PerProcess(redis_url, timeout=5)


def _redis() -> redis.Redis:
    return _clients.get()


def deliver(run_id: str, reply: Mapping[str, Any], client: redis.Redis | None = None) -> None:
    """Push the reply on the run's list and let the list expire (one round trip, atomic)."""
    key = reply_key(run_id)
    pipe = (client or _redis()).pipeline(transaction=True)
    pipe.rpush(key, json.dumps(reply))
    pipe.expire(key, REPLY_TTL)
    pipe.execute()
