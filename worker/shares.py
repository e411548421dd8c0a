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

import functools
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Integer, Table, Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from store import env
from store.models import Submission, unfinished
from store.types import UTCDateTime, utcnow
from store.vocab import Status

QUEUE = "interactive"


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
    return _release(session, "user", {"b_user": user_id}, limit)


def release_after(session: Session, submission_id: int, limit: int | None = None) -> list[int]:
    """:func:`release_user` for the user of ``submission_id``, an interactive submission that
    has just ended (nothing for other queues). One statement: on SQLite a read before the
    write could lose its snapshot to another writer and fail instead of waiting."""
    return _release(session, "after", {"b_submission": submission_id}, limit)


def release_all(
    session: Session, limit: int | None = None, now: datetime | None = None
) -> list[int]:
    """:func:`release_user` for every user (the sweeper's pass, on its clock ``now``)."""
    return _release(session, "all", {}, limit, now)


Scope = Literal["user", "after", "all"]


def _release(
    session: Session,
    scope: Scope,
    params: dict[str, Any],
    limit: int | None,
    now: datetime | None = None,
) -> list[int]:
    values = {
        **params,
        "b_limit": limit if limit is not None else share(),
        "b_now": now or utcnow(),
    }
    released: Sequence[int] = session.scalars(_release_statement(scope), values).all()
    return sorted(released)


@functools.cache
def _release_statement(scope: Scope) -> Update:
    """The releasing UPDATE for one user (``b_user``), the user of a submission
    (``b_submission``) or every user, built once: building it per finish cost a grading
    about half a millisecond (bench/worker_overhead.py). On the table's columns, not the
    entity's: an ORM statement is copied and keyed again by the session at every run."""
    table = cast(Table, Submission.__table__)
    col = table.c
    mine = [col.queue == QUEUE, unfinished(col.status)]
    if scope == "user":
        mine.append(col.user_id == bindparam("b_user", type_=Integer()))
    elif scope == "after":
        user = (
            select(col.user_id)
            .where(
                col.id == bindparam("b_submission", type_=Integer()),
                col.queue == QUEUE,
            )
            .scalar_subquery()
        )
        mine.append(col.user_id == user)
    else:
        mine.append(col.user_id.is_not(None))
    # Rank each user's unfinished submissions by age: those ranked within the share may be
    # in the broker. Ranks count the ones grading too, so a user whose share is busy grading
    # has nothing released until one of them ends.
    ranked = (
        select(
            col.id.label("id"),
            col.enqueued_at.label("enqueued_at"),
            func.row_number().over(partition_by=col.user_id, order_by=col.id).label("rank"),
        )
        .where(*mine)
        .subquery()
    )
    due = select(ranked.c.id).where(
        ranked.c.rank <= bindparam("b_limit", type_=Integer()), ranked.c.enqueued_at.is_(None)
    )
    return (
        update(table)
        .where(
            col.id.in_(due),
            col.status == Status.QUEUED,
            col.enqueued_at.is_(None),
        )
        .values(enqueued_at=bindparam("b_now", type_=UTCDateTime()))
        .returning(col.id)
    )
