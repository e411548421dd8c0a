"""The lease sweeper: nothing stays ``running`` or ``queued`` forever.

A queued row is re-sent when the broker holds no live message for it and it has waited
``JUDGE_RESEND_AFTER`` seconds (a lost wake-up: seconds, not minutes), and after
``JUDGE_REQUEUE_AFTER`` whatever the broker says (a message stuck with a dead worker). A
duplicate message is harmless: the claim lets only one of them grade. Rows held back for
their user's share (worker.shares) have no ``enqueued_at`` and are never re-sent; the pass
releases those whose turn has come.

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

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from store import webhooks
from store.models import Submission
from store.types import utcnow
from store.vocab import IN_PROGRESS, Status, Verdict
from worker import judge0, metrics, shares, wakeups
from worker.config import Settings
from worker.pipeline import RETRY_COUNTDOWN_CAP, Enqueue

log = logging.getLogger(__name__)
#: Most queued rows looked at per pass; the next pass takes the rest.
ORPHAN_BATCH = 1000


@dataclass(frozen=True)
class SweepReport:
    requeued: int  # expired leases handed to a new attempt
    failed: int  # expired leases at the attempt cap, ended as IE
    resent: int  # queued rows whose wake-up message was probably lost
    released: int = 0  # held rows now within their user's share (worker.shares)


def live_wakeups(settings: Settings, task: str = "") -> wakeups.Live:
    """The broker reader for this judge's Redis (queues and task name from worker.celery_app)."""
    from worker.celery_app import GRADE_TASK, QUEUES

    # A message a worker holds stays live for as long as a countdown can delay it, and then
    # the re-send delay itself; after that its worker is presumed gone.
    grace = settings.resend_after + RETRY_COUNTDOWN_CAP
    return wakeups.RedisWakeups(settings.redis_url, QUEUES, task or GRADE_TASK, grace)


def sweep(
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
    settings: Settings,
    now: datetime | None = None,
    live: wakeups.Live | None = None,
) -> SweepReport:
    """One pass. ``live``: which submissions have a message in the broker; without it only
    the long ``requeue_after`` re-send applies."""
    now = now or utcnow()
    expired = and_(Submission.status.in_(IN_PROGRESS), Submission.lease_until < now)
    orphans = _orphans(sessions, settings, now, live)
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
        for sid, _, _ in failed:
            webhooks.queue_for_submission(s, sid)  # the IE verdict's webhook, same transaction
        requeued = s.execute(
            update(Submission)
            .where(expired, Submission.attempts < settings.max_attempts)
            .values(status=Status.QUEUED, lease_until=None, lease_owner=None, enqueued_at=now)
            .returning(Submission.id, Submission.queue)
            .execution_options(synchronize_session=False)
        ).all()
        stale = now - timedelta(seconds=settings.requeue_after)
        waited = now - timedelta(seconds=settings.resend_after)
        # The conditions are checked again here: a row re-sent by another worker's sweeper
        # (or claimed) since _orphans looked has a newer enqueued_at (or another status).
        resent = s.execute(
            update(Submission)
            .where(
                Submission.status == Status.QUEUED,
                or_(
                    Submission.enqueued_at < stale,
                    and_(Submission.id.in_(orphans), Submission.enqueued_at < waited),
                ),
            )
            .values(enqueued_at=now)
            .returning(Submission.id, Submission.queue)
            .execution_options(synchronize_session=False)
        ).all()
        # Held submissions now within their user's share (one whose release after a finish
        # was lost to a crash or a race, or whose predecessor the pass above ended as IE).
        released = [(sid, shares.QUEUE) for sid in shares.release_all(s, now=now)]
        # Batches whose last item has ended: their webhook (once, whichever sweeper sees it).
        webhooks.queue_finished_batches(s, now)
    # Enqueue only after the commit: a worker woken by the message must see the queued row.
    for sid, queue in [*requeued, *resent, *released]:
        enqueue(sid, queue, 0.0)
    for sid, queue, created in failed:
        log.error("submission %s ended as IE: out of attempts", sid)
        metrics.verdict(queue, Verdict.IE.value, (now - created).total_seconds())
    if requeued or failed or resent or released:
        log.warning(
            "sweeper: requeued %s, failed %s, resent %s, released %s",
            len(requeued), len(failed), len(resent), len(released),
        )  # fmt: skip
    return SweepReport(len(requeued), len(failed), len(resent), len(released))


def _orphans(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    live: wakeups.Live | None,
) -> list[int]:
    """Queued rows that waited ``resend_after`` and have no live message in the broker."""
    if live is None:
        return []
    waited = now - timedelta(seconds=settings.resend_after)
    with sessions() as s:
        candidates = s.scalars(
            select(Submission.id)
            .where(Submission.status == Status.QUEUED, Submission.enqueued_at < waited)
            .order_by(Submission.enqueued_at)
            .limit(ORPHAN_BATCH)
        ).all()
    # A row claimed between the reads is left alone by sweep's own conditions.
    return wakeups.lost(list(candidates), live)


class SweeperThread(threading.Thread):
    """Runs :func:`sweep` every ``settings.sweep_interval`` seconds until stopped."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        enqueue: Enqueue,
        settings: Settings,
        live: wakeups.Live | None = None,
        judge0_send: judge0.Send | None = None,
    ) -> None:
        super().__init__(name="judge-sweeper", daemon=True)
        self._sessions, self._enqueue, self._settings = sessions, enqueue, settings
        self._live = live if live is not None else live_wakeups(settings)
        # Judge0 submissions (worker.judge0) get the same pass over their own table.
        self._judge0_send = judge0_send
        self._judge0_live = live_wakeups(settings, task="judge.judge0") if judge0_send else None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self._settings.sweep_interval):
            try:
                sweep(self._sessions, self._enqueue, self._settings, live=self._live)
                if self._judge0_send is not None:
                    judge0.sweep(self._sessions, self._judge0_send, self._settings,
                                 live=self._judge0_live)  # fmt: skip
            except Exception:
                # A database or broker outage must not kill the thread: try again next round.
                log.exception("sweeper pass failed")

    def stop(self) -> None:
        self._stop_event.set()
