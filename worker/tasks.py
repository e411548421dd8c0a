"""Celery tasks. Callers send them by name (worker.celery_app.GRADE_TASK), never import them."""

from __future__ import annotations

import logging
import random
from typing import Any

import kombu.exceptions  # type: ignore[import-untyped,unused-ignore]
import redis
import sqlalchemy.exc

from worker import db, judge0, metrics, runs
from worker.celery_app import (
    GRADE_TASK,
    JUDGE0_TASK,
    RUN_TASK,
    SWEEP_TASK,
    VERIFY_TASK,
    app,
    enqueue,
    owner_name,
    send_judge0,
    settings,
)
from worker.claims import Claim
from worker.execution import sandbox_runner
from worker.pipeline import Unreleased, grade
from worker.sweeper import live_wakeups, sweep

log = logging.getLogger(__name__)


#: Errors that say the database or the broker is unreachable or refused the work for now, not
#: that the code is wrong: a task meeting one retries until they pass, however long.
TRANSIENT: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,  # connection refused or lost, SQLite "database is locked"
    sqlalchemy.exc.InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.RedisError,
    OSError,  # sockets
)
#: Retries of a task whose failure is not a known transient one (a bug): bounded, the sweeper
#: picks the submission up after that.
OTHER_RETRIES = 5
#: The longest pause between tries: after an outage ends, every waiting submission is claimed
#: within about this long.
RETRY_BACKOFF_CAP = 5.0


def _transient(e: BaseException) -> bool:
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, TRANSIENT):
            return True
        cause = cause.__cause__
    return False


def _backoff(retries: int) -> float:
    """Exponential from JUDGE_RETRY_DELAY, capped, with jitter so that the workers of a fleet
    do not all hit a database that has just come back in the same instant."""
    base = max(settings.retry_delay, 0.1)
    return float(min(base * 2**retries, RETRY_BACKOFF_CAP) * random.uniform(0.5, 1.0))


def _held(value: Any) -> Claim | None:
    if not value:
        return None
    sid, attempt, owner = value
    return Claim(int(sid), int(attempt), str(owner))


# Without the celery-types stubs the decorator is untyped; the ignore is unused with them.
@app.task(  # type: ignore[untyped-decorator,misc,unused-ignore]
    name=GRADE_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,  # bounded per cause in the body, see OTHER_RETRIES
)
def grade_submission(self: Any, submission_id: int, held: list[Any] | None = None) -> str:
    """Grade one submission. The message is a wake-up that must not be lost: when the database
    or the broker fails before the submission is claimed, or before a failed grading could hand
    it back, the task is sent again with backoff (a Celery retry) rather than acknowledged away.
    ``held``: [submission id, attempt, owner] of a claim an earlier try could not release."""
    try:
        outcome = grade(
            db.sessions(),
            submission_id,
            settings=settings,
            owner=owner_name(),
            enqueue=enqueue,
            run=sandbox_runner,
            held=_held(held),
        )
    except Exception as e:
        keep = e.held if isinstance(e, Unreleased) else _held(held)
        if not _transient(e) and self.request.retries >= OTHER_RETRIES:
            raise  # acknowledged: the lease runs out and the sweeper hands the row on
        countdown = _backoff(self.request.retries)
        log.warning(
            "submission %s: %s; trying again in %.1f s", submission_id, e, countdown,
            extra={"submission_id": submission_id, "outcome": "retry-task"},
        )  # fmt: skip
        kwargs = {"held": [keep.submission_id, keep.attempt, keep.owner] if keep else None}
        # If the broker is down too, Celery cannot send the retry and rejects the message;
        # the sweeper then re-sends the row once the broker is back (JUDGE_RESEND_AFTER).
        raise self.retry(args=[submission_id], kwargs=kwargs, countdown=countdown, exc=e) from e
    log.info(
        "submission %s: %s",
        submission_id,
        outcome,
        extra={"submission_id": submission_id, "outcome": outcome},
    )
    try:
        if outcome in ("done", "failed"):
            metrics.graded(db.sessions(), submission_id)  # sends the runs' metrics along
        else:
            metrics.flush()
    except Exception:
        # The grading is committed; failing the task now would only lose the log line.
        log.exception("submission %s: metrics not sent", submission_id)
    return outcome


@app.task(name=SWEEP_TASK, ignore_result=True)  # type: ignore[untyped-decorator,misc,unused-ignore]
def sweep_leases() -> dict[str, int]:
    report = sweep(db.sessions(), enqueue, settings, live=live_wakeups(settings))
    return {
        "requeued": report.requeued,
        "failed": report.failed,
        "resent": report.resent,
        "released": report.released,
    }


@app.task(  # type: ignore[untyped-decorator,misc,unused-ignore]
    name=RUN_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def run_adhoc(run_id: str, language: str, source: str, stdin: str, limits: dict[str, Any]) -> str:
    """One ad-hoc run (POST /api/runs); the reply goes to Redis for the waiting web request.

    Redelivered after a crash like every task; a message that expired while queued (its web
    request has answered 504 by then) is dropped by Celery before it gets here.
    """
    reply = runs.execute(language, source, stdin, limits, run=sandbox_runner)
    metrics.flush()
    reply["worker"] = owner_name()
    outcome = reply["result"]["verdict"] if reply["ok"] else f"error {reply['status']}"
    try:
        runs.deliver(run_id, reply)
    except Exception:
        log.exception("run %s: %s, but the reply could not be delivered", run_id, outcome)
        return "undelivered"
    log.info("run %s: %s", run_id, outcome, extra={"run_id": run_id, "outcome": outcome})
    return str(outcome)


def _judge0_notice(token: str) -> None:
    key = judge0.notice_key(token)
    pipe = runs._redis().pipeline(transaction=True)
    pipe.rpush(key, "done")
    pipe.expire(key, judge0.NOTICE_TTL)
    pipe.execute()


@app.task(  # type: ignore[untyped-decorator,misc,unused-ignore]
    name=JUDGE0_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def run_judge0(row_id: int) -> str:
    """One Judge0 submission (web.judge0): the row is the job, this message only a wake-up.
    A duplicate finds nothing to claim; a lost one is sent again by the sweeper."""
    outcome = judge0.grade(
        db.sessions(), row_id, owner=owner_name(), settings=settings, run=sandbox_runner,
        send=send_judge0, notify=_judge0_notice,
    )  # fmt: skip
    metrics.flush()
    log.info("judge0 row %s: %s", row_id, outcome, extra={"outcome": outcome})
    return outcome


@app.task(name=VERIFY_TASK, ignore_result=True)  # type: ignore[untyped-decorator,misc,unused-ignore]
def verify_problem(slug: str) -> str:
    """``judge problem verify`` in a worker, for the admin page; the table is read back from
    the verify batch it makes (worker.verify_runs). Not redelivered after a crash: the next
    verify of the problem ends what this one left queued."""
    from worker import verify, verify_runs

    ended = verify_runs.end_unfinished(db.sessions(), slug)
    if ended:
        log.warning("verify %s: %s rows of an interrupted verify ended", slug, ended)
    try:
        report = verify.verify(db.sessions(), slug, settings)
    except verify.VerifyError as e:
        log.error("verify %s: %s", slug, e)
        return f"error: {e}"
    graded = [r for r in report.rows if r.graded]
    wrong = sum(1 for r in graded if not r.ok)
    log.info("verify %s: %s of %s as expected", slug, len(graded) - wrong, len(graded))
    return "ok" if report.ok else "mismatch"
