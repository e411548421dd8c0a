"""The lease sweeper: nothing stays ``running`` or ``queued`` forever.

Every worker runs one in a background thread of its main process (see worker.celery_app); the
``judge.sweep`` task does the same pass for deployments that prefer Celery beat. Passes from
several workers at once are safe: each row moves with one conditional UPDATE, so only one
sweeper wins it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, update
from sqlalchemy.orm import Session, sessionmaker

from store.models import Submission
from store.types import utcnow
from store.vocab import IN_PROGRESS, Status, Verdict
from worker import metrics
from worker.config import Settings
from worker.pipeline import Enqueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    requeued: int  # expired leases handed to a new attempt
    failed: int  # expired leases at the attempt cap, ended as IE
    resent: int  # queued rows whose wake-up message was probably lost


def sweep(
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
    settings: Settings,
    now: datetime | None = None,
) -> SweepReport:
    now = now or utcnow()
    expired = and_(Submission.status.in_(IN_PROGRESS), Submission.lease_until < now)
    with sessions.begin() as s:
        failed = s.execute(
            update(Submission)
            .where(expired, Submission.attempts >= settings.max_attempts)
            .values(
                status=Status.ERROR,
                verdict=Verdict.IE,
                message=(
                    f"gave up after {settings.max_attempts} attempts: the worker grading it "
                    "stopped responding each time"
                ),
                finished_at=now,
                lease_until=None,
            )
            .returning(Submission.id, Submission.queue, Submission.created_at)
            .execution_options(synchronize_session=False)
        ).all()
        requeued = s.execute(
            update(Submission)
            .where(expired, Submission.attempts < settings.max_attempts)
            .values(status=Status.QUEUED, lease_until=None, lease_owner=None, enqueued_at=now)
            .returning(Submission.id, Submission.queue)
            .execution_options(synchronize_session=False)
        ).all()
        stale = now - timedelta(seconds=settings.requeue_after)
        resent = s.execute(
            update(Submission)
            .where(Submission.status == Status.QUEUED, Submission.enqueued_at < stale)
            .values(enqueued_at=now)
            .returning(Submission.id, Submission.queue)
            .execution_options(synchronize_session=False)
        ).all()
    # Enqueue only after the commit: a worker woken by the message must see the queued row.
    for sid, queue in [*requeued, *resent]:
        enqueue(sid, queue, 0.0)
    for sid, queue, created in failed:
        log.error("submission %s ended as IE: out of attempts", sid)
        metrics.verdict(queue, Verdict.IE.value, (now - created).total_seconds())
    if requeued or failed or resent:
        log.warning(
            "sweeper: requeued %s, failed %s, resent %s", len(requeued), len(failed), len(resent)
        )
    return SweepReport(len(requeued), len(failed), len(resent))


class SweeperThread(threading.Thread):
    """Runs :func:`sweep` every ``settings.sweep_interval`` seconds until stopped."""

    def __init__(
        self, sessions: sessionmaker[Session], enqueue: Enqueue, settings: Settings
    ) -> None:
        super().__init__(name="judge-sweeper", daemon=True)
        self._sessions, self._enqueue, self._settings = sessions, enqueue, settings
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self._settings.sweep_interval):
            try:
                sweep(self._sessions, self._enqueue, self._settings)
            except Exception:
                # A database or broker outage must not kill the thread: try again next round.
                log.exception("sweeper pass failed")

    def stop(self) -> None:
        self._stop_event.set()
