"""Celery tasks. Callers send them by name (worker.celery_app.GRADE_TASK), never import them."""

from __future__ import annotations

import logging

from worker import db, metrics
from worker.celery_app import GRADE_TASK, SWEEP_TASK, app, enqueue, owner_name, settings
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
        metrics.graded(db.sessions(), submission_id)
    return outcome


@app.task(name=SWEEP_TASK, ignore_result=True)  # type: ignore[untyped-decorator,misc,unused-ignore]
def sweep_leases() -> dict[str, int]:
    report = sweep(db.sessions(), enqueue, settings)
    return {"requeued": report.requeued, "failed": report.failed, "resent": report.resent}
