"""Celery tasks. Callers send them by name (worker.celery_app.GRADE_TASK), never import them."""

from __future__ import annotations

import logging
from typing import Any

from worker import db, metrics, runs
from worker.celery_app import (
    GRADE_TASK,
    RUN_TASK,
    SWEEP_TASK,
    app,
    enqueue,
    owner_name,
    settings,
)
from worker.execution import sandbox_runner
from worker.pipeline import grade
from worker.sweeper import sweep

log = logging.getLogger(__name__)


# Without the celery-types stubs the decorator is untyped; the ignore is unused with them.
@app.task(  # type: ignore[untyped-decorator,misc,unused-ignore]
    name=GRADE_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def grade_submission(submission_id: int) -> str:
    outcome = grade(
        db.sessions(),
        submission_id,
        settings=settings,
        owner=owner_name(),
        enqueue=enqueue,
        run=sandbox_runner,
    )
    log.info(
        "submission %s: %s",
        submission_id,
        outcome,
        extra={"submission_id": submission_id, "outcome": outcome},
    )
    if outcome in ("done", "failed"):
        metrics.graded(db.sessions(), submission_id)  # sends the runs' metrics along
    else:
        metrics.flush()
    return outcome


@app.task(name=SWEEP_TASK, ignore_result=True)  # type: ignore[untyped-decorator,misc,unused-ignore]
def sweep_leases() -> dict[str, int]:
    report = sweep(db.sessions(), enqueue, settings)
    return {"requeued": report.requeued, "failed": report.failed, "resent": report.resent}


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
