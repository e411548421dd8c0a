"""The web's one doorway into the worker package: submit, rejudge, languages, ad-hoc runs.

Everything the web asks of grading goes through here, so the HTTP layer sees ApiError and plain
data, never worker exceptions, and a change in the worker's API is a change in one file.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

import worker
import worker.runs
from store import User
from web.errors import ApiError
from web.schemas import RunOut

log = logging.getLogger("web")

#: Longest the web waits on Redis for a quick command (a blocking BLPOP waits longer).
BROKER_WAIT = 2.0


def bound_broker_waits() -> None:
    """A frozen Redis must not hold a submit: the web's sends give up within about 3 s and
    leave the wake-up to the sweeper (the row is already committed)."""
    from worker import celery_app

    celery_app.bound_sends()


_LANGUAGES_LOCK = threading.Lock()


def languages() -> tuple[dict[str, str], ...]:
    # The lock: callers at once (the Judge0 API's warm-up and a request) share one round of
    # version questions, which starts a JVM or two.
    with _LANGUAGES_LOCK:
        return _languages()


@functools.cache
def _languages() -> tuple[dict[str, str], ...]:
    # Toolchains do not appear or vanish while the server runs; looking once is enough.
    return tuple(worker.languages.describe())


@functools.cache
def language_ids() -> frozenset[str]:
    # Without versions: checking a language must not wait for toolchains to name theirs.
    return frozenset(lang.id for lang in worker.languages.available())


def check_language(language: str) -> None:
    if language not in language_ids():
        raise ApiError(422, f"unknown language {language!r}; see GET /api/languages")


def submit(
    session: Session,
    slug: str,
    language: str,
    source: str,
    user: User,
    files: Mapping[str, str] | None = None,
    callback: tuple[str, int] | None = None,
) -> int:
    try:
        # By id: the User may belong to the request's other session.
        return worker.submit(
            session, slug, language, source, user=user.id, files=files, callback=callback
        )
    except worker.UnknownProblem as e:
        raise ApiError(404, str(e)) from None
    except worker.SubmitError as e:
        raise ApiError(422, str(e)) from None


def rejudge_problem(session: Session, slug: str) -> list[int]:
    try:
        return worker.rejudge_problem(session, slug)
    except worker.UnknownProblem as e:
        raise ApiError(404, str(e)) from None


def rejudge(session: Session, ids: list[int]) -> list[int]:
    return worker.rejudge(session, ids)


async def run(
    language: str,
    source: str,
    stdin: str,
    limits: Mapping[str, Any],
    *,
    timeout: float,
    max_queued: int,
) -> tuple[str, RunOut]:
    """One sandboxed run, synchronous for the caller, done by a worker (worker.runs).

    Returns the run id and the result. The web only sends the task and waits for the reply on
    Redis (``BLPOP``, asyncio: a waiting client costs a coroutine and a socket, no thread). The
    queue is the concurrency limit: runs wait there for a free worker process, and a queue
    longer than ``max_queued`` is a 503. No answer within ``timeout`` seconds (no worker, or
    all busy) is a 504; the message expires then, so no worker runs it later for nobody.
    """
    check_language(language)
    run_id = uuid.uuid4().hex
    key = worker.runs.reply_key(run_id)
    client = aioredis.from_url(
        worker.runs.redis_url(), socket_connect_timeout=2, socket_timeout=timeout + 10
    )
    try:
        try:
            # The client's socket timeout is long (it also serves the BLPOP below): bound this
            # one so a frozen Redis is a prompt 503, not a request held for a minute.
            waiting = await asyncio.wait_for(client.llen(worker.runs.QUEUE), BROKER_WAIT)
        except (aioredis.RedisError, OSError, TimeoutError) as e:
            log.warning("run %s: the broker is unreachable: %s", run_id, e)
            raise ApiError(503, "the broker is unreachable; try again shortly",
                           headers={"Retry-After": "10"}) from None  # fmt: skip
        if waiting >= max_queued:
            raise ApiError(503, "the queue is full; try again shortly",
                           headers={"Retry-After": "10"})  # fmt: skip
        try:
            await run_in_threadpool(
                worker.runs.send, run_id, language, source, stdin, limits, expires=timeout
            )
        except Exception as e:  # kombu/redis errors of every kind: the broker did not take it
            log.warning("run %s: could not enqueue: %s", run_id, e)
            raise ApiError(503, "the broker did not take the run; try again shortly",
                           headers={"Retry-After": "10"}) from None  # fmt: skip
        try:
            popped = await client.blpop([key], timeout=timeout)
        except (aioredis.RedisError, OSError) as e:
            log.warning("run %s: lost the broker while waiting: %s", run_id, e)
            raise ApiError(503, "lost the broker while waiting for the run; try again",
                           headers={"Retry-After": "10"}) from None  # fmt: skip
    finally:
        await client.aclose()
    if popped is None:
        raise ApiError(504, f"no worker ran the program within {timeout:g} s; try again later",
                       headers={"Retry-After": "10"})  # fmt: skip
    return run_id, _result(run_id, popped[1])


def _result(run_id: str, raw: bytes | str) -> RunOut:
    try:
        reply = json.loads(raw)
        if reply["ok"]:
            return RunOut.model_validate(reply["result"])
        status, detail = int(reply["status"]), str(reply["detail"])
    except (ValueError, KeyError, TypeError) as e:  # pydantic's ValidationError is a ValueError
        log.error("run %s: a malformed reply from a worker: %s", run_id, e)
        raise ApiError(
            503, "a worker sent a malformed reply", headers={"Retry-After": "10"}
        ) from None
    raise ApiError(status, detail, headers={"Retry-After": "5"} if status == 503 else None)


def send_judge0(row_id: int) -> None:
    """Wake a worker for a stored Judge0 submission; raises what the broker client raises
    (the caller logs it, and the sweeper sends the wake-up again)."""
    from worker import celery_app

    celery_app.send_judge0(row_id)


async def wait_judge0(tokens: list[str], timeout: float) -> None:
    """Return when a worker has stored the result of each token, or after ``timeout`` s.

    The worker pushes a notice on a Redis list per token once the result is committed
    (worker.judge0.notify); a notice pushed before this starts waiting is still there.
    """
    import worker.judge0

    client = aioredis.from_url(
        worker.runs.redis_url(), socket_connect_timeout=2, socket_timeout=timeout + 10
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        for token in tokens:
            left = deadline - loop.time()
            if left <= 0:
                return
            # BLPOP takes whole seconds on old servers; a float works from Redis 6.
            await client.blpop([worker.judge0.notice_key(token)], timeout=max(left, 0.01))
    except (aioredis.RedisError, OSError) as e:
        log.warning("judge0: lost the broker while waiting: %s", e)
    finally:
        await client.aclose()
