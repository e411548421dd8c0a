"""Per-user shares of the interactive queue: one user's hundred submissions wait behind the
others' one each (issue 14 finding 3, DESIGN 5.11).

The broker's queue is first come, first served, and kombu's priorities are not a fix: moving a
user's later submissions to lower priority lists slowed every interactive submission that
waited behind a batch (measured 1.3 s). So the order is decided before the broker sees a
message: a user's queued interactive submission gets its wake-up only while it is among that
user's ``share`` oldest unfinished ones. The rest are *held*: ``status = queued`` with no
``enqueued_at``, in the database only. When one of the user's submissions finishes, the worker
that finished it releases the next one (:func:`release_user`); the sweeper releases any that a
crash or a lost race left behind (:func:`release_all`), and never re-sends a held row as lost
(its ``enqueued_at`` is NULL, so every age test skips it).

The effect: a newcomer's message is behind at most ``share`` messages per active user, not
behind a flood. With ``share`` equal to the number of workers (the default, one per CPU as
``judge up`` starts them), a user alone still gets every worker. Batches (their own, lower
queue) and submissions without a user (library callers) are not held.

Both statements release with one conditional UPDATE (``enqueued_at IS NULL`` in its WHERE), so
two releasers racing send each message once; a row whose release lost a race waits for the
next finish or sweep.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, func, select, update
from sqlalchemy.orm import Session

from store import env
from store.models import Submission
from store.types import utcnow
from store.vocab import IN_PROGRESS, Status

QUEUE = "interactive"
_UNFINISHED = (Status.QUEUED, *IN_PROGRESS)


def share() -> int:
    """``JUDGE_USER_SHARE``: a user's submissions in the broker or grading at once; 0 (the
    default) means one per CPU, the worker count ``judge up`` starts."""
    configured = env.integer("JUDGE_USER_SHARE")
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


def holds(queue: str, user_id: int | None) -> bool:
    """Whether a new submission on ``queue`` by ``user_id`` starts held (then release it)."""
    return queue == QUEUE and user_id is not None


def release_user(session: Session, user_id: int, limit: int | None = None) -> list[int]:
    """Mark the user's held submissions that are now within their share as sent; returns their
    ids, oldest first. The caller commits, then sends their wake-ups."""
    return _release(session, user_id, limit if limit is not None else share())


def release_after(session: Session, submission_id: int, limit: int | None = None) -> list[int]:
    """:func:`release_user` for the user of ``submission_id``, an interactive submission that
    has just ended (nothing for other queues). One statement: on SQLite a read before the
    write could lose its snapshot to another writer and fail instead of waiting."""
    user = (
        select(Submission.user_id)
        .where(Submission.id == submission_id, Submission.queue == QUEUE)
        .scalar_subquery()
    )
    return _release(session, user, limit if limit is not None else share())


def release_all(
    session: Session, limit: int | None = None, now: datetime | None = None
) -> list[int]:
    """:func:`release_user` for every user (the sweeper's pass, on its clock ``now``)."""
    return _release(session, None, limit if limit is not None else share(), now)


def _release(
    session: Session,
    user: int | ScalarSelect[Any] | None,
    limit: int,
    now: datetime | None = None,
) -> list[int]:
    mine = [Submission.queue == QUEUE, Submission.status.in_(_UNFINISHED)]
    if user is not None:
        mine.append(Submission.user_id == user)
    else:
        mine.append(Submission.user_id.is_not(None))
    # Rank each user's unfinished submissions by age: those ranked within the share may be
    # in the broker. Ranks count the ones grading too, so a user whose share is busy grading
    # has nothing released until one of them ends.
    ranked = (
        select(
            Submission.id.label("id"),
            Submission.enqueued_at.label("enqueued_at"),
            func.row_number()
            .over(partition_by=Submission.user_id, order_by=Submission.id)
            .label("rank"),
        )
        .where(*mine)
        .subquery()
    )
    due = select(ranked.c.id).where(ranked.c.rank <= limit, ranked.c.enqueued_at.is_(None))
    released: Sequence[int] = session.scalars(
        update(Submission)
        .where(
            Submission.id.in_(due),
            Submission.status == Status.QUEUED,
            Submission.enqueued_at.is_(None),
        )
        .values(enqueued_at=now or utcnow())
        .returning(Submission.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(released)
