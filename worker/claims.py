"""The lease protocol (DESIGN 6): who may grade a submission, and who may write its results.

A worker claims a submission with one conditional UPDATE that bumps ``attempts`` and sets a
lease. Every later write of that grading is guarded by "still my attempt, still in progress, and
the lease not yet expired", so a worker that lost its lease can no longer touch the row or its
results, and a duplicate delivery finds nothing to claim. The expiry is part of the guard because
the sweeper is not instant: a worker stopped past its lease (SIGSTOP, a long stall) that wakes
before any sweeper pass must still give up, since from the moment the lease expired anyone was
entitled to take the submission over.

Leases are set and checked with the workers' clock (:func:`store.types.utcnow`), the clock the
sweeper compares them with too; the check is in the UPDATE's WHERE, so it is atomic with the write.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Integer,
    String,
    Table,
    Update,
    and_,
    bindparam,
    delete,
    or_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from store import webhooks
from store.models import Submission, TestResult
from store.types import UTCDateTime, utcnow
from store.vocab import IN_PROGRESS, Status, Verdict

# Every statement here is built once, on the tables, with bound parameters: building an ORM
# UPDATE per call (and running it through the ORM's bulk-update bookkeeping) was two thirds of
# a lease renewal's 380 us; the prepared Core one takes 120 us (bench/worker_overhead.py).
_SUBMISSIONS: Table = Submission.__table__  # type: ignore[assignment]
_RESULTS: Table = TestResult.__table__  # type: ignore[assignment]
_SUB = _SUBMISSIONS.c
_ID: BindParameter[int] = bindparam("b_id", type_=Integer())
_NOW: BindParameter[datetime] = bindparam("b_now", type_=UTCDateTime())

_CLAIM = (
    update(_SUBMISSIONS)
    .where(
        _SUB.id == _ID,
        _SUB.attempts < bindparam("b_max_attempts", type_=Integer()),
        or_(
            _SUB.status == Status.QUEUED,
            and_(_SUB.status.in_(IN_PROGRESS), _SUB.lease_until < _NOW),
        ),
    )
    .values(
        status=Status.COMPILING,
        attempts=_SUB.attempts + 1,
        lease_until=bindparam("b_lease", type_=UTCDateTime()),
        lease_owner=bindparam("b_owner", type_=String()),
        started_at=_NOW,
        finished_at=None,
        verdict=None,
        score=None,
        time=None,
        memory=None,
        compile_output=None,
        # An earlier attempt's internal-error text (``release``) is the admin's: it can quote
        # an interactor's or checker's stderr, and with it the test it was reading.
        message=None,
    )
    .returning(_SUB.attempts)
)
_FORGET_RESULTS = delete(_RESULTS).where(_RESULTS.c.submission_id == _ID)
# This attempt still holds the submission under a lease that has not expired at ``b_now``.
_MINE = and_(
    _SUB.id == _ID,
    _SUB.attempts == bindparam("b_attempt", type_=Integer()),
    _SUB.lease_owner == bindparam("b_owner", type_=String()),
    _SUB.status.in_(IN_PROGRESS),
    _SUB.lease_until > _NOW,  # NULL (released, finished) never matches either
)


class LeaseLost(Exception):
    """This grading no longer owns the submission; stop without writing anything."""


@dataclass(frozen=True)
class Claim:
    submission_id: int
    attempt: int
    owner: str
    #: The lease :func:`claim` took, until a renewal moves it (None: not known here).
    lease_until: datetime | None = field(default=None, compare=False)

    def covers(self, seconds: float) -> bool:
        """Whether the lease taken with the claim still runs ``seconds`` from now, so a
        step that needs that long may start without renewing it."""
        return self.lease_until is not None and self.lease_until >= utcnow() + timedelta(
            seconds=seconds
        )


class Ended(NamedTuple):
    """A finished grading's submission, read by the write that finished it: whose next
    submission may be due (worker.shares)."""

    queue: str
    user_id: int | None


def claim(
    sessions: sessionmaker[Session],
    submission_id: int,
    *,
    owner: str,
    lease_seconds: float,
    max_attempts: int,
    now: datetime | None = None,
) -> Claim | None:
    """Take the submission if it is queued, or in progress under an expired lease.

    Returns None when there is nothing to claim: already graded, being graded under a live lease
    (a duplicate delivery), or out of attempts (the sweeper ends those as IE).
    """
    now = now or utcnow()
    lease_until = now + timedelta(seconds=lease_seconds)
    params = {
        "b_id": submission_id,
        "b_now": now,
        "b_max_attempts": max_attempts,
        "b_lease": lease_until,
        "b_owner": owner,
    }
    with sessions.begin() as s:
        attempt = s.execute(_CLAIM, params).scalar_one_or_none()
        if attempt is None:
            return None
        # A new attempt starts from a clean slate; results of an earlier, interrupted attempt
        # (or of the grading a rejudge replaces) would otherwise mix with the new ones.
        s.execute(_FORGET_RESULTS, {"b_id": submission_id})
    return Claim(submission_id, attempt, owner, lease_until)


@functools.lru_cache(maxsize=32)
def _guarded(columns: tuple[str, ...], returning: bool = False) -> Update:
    """The UPDATE of ``columns`` (each bound as ``v_<column>``) that only this attempt's
    live lease may make (:data:`_MINE`)."""
    values = {c: bindparam(f"v_{c}", type_=_SUB[c].type) for c in columns}
    stmt = update(_SUBMISSIONS).where(_MINE).values(values)
    return stmt.returning(_SUB.queue, _SUB.user_id) if returning else stmt


def _guarded_params(c: Claim, values: Mapping[str, Any]) -> dict[str, Any]:
    # ``now`` is read here, at write time, not when the step began: a process stopped between
    # the two must be judged by when it writes.
    return {
        "b_id": c.submission_id,
        "b_attempt": c.attempt,
        "b_owner": c.owner,
        "b_now": utcnow(),
        **{f"v_{k}": v for k, v in values.items()},
    }


def _guarded_update(s: Session, c: Claim, values: Mapping[str, Any]) -> bool:
    result = s.execute(_guarded(tuple(sorted(values))), _guarded_params(c, values))
    return bool(getattr(result, "rowcount", 0) == 1)


def resume(
    sessions: sessionmaker[Session], held: Claim, *, owner: str, lease_seconds: float
) -> Claim | None:
    """Take back an attempt whose task had to stop before it could release or close it (the
    database or broker failed), under a fresh lease for ``owner``, keeping the attempt number:
    an outage is not the submission's fault and should not use up its attempts.

    Returns None when ``held`` no longer holds the submission (its lease expired, or it was
    handed on); the caller then claims it like any other delivery.
    """
    values = {"lease_owner": owner, "lease_until": utcnow() + timedelta(seconds=lease_seconds)}
    with sessions.begin() as s:
        if not _guarded_update(s, held, values):
            return None
        # Results of the interrupted run would mix with the new ones (the run starts over).
        s.execute(_FORGET_RESULTS, {"b_id": held.submission_id})
    return Claim(held.submission_id, held.attempt, owner)


def renew(
    sessions: sessionmaker[Session], c: Claim, seconds: float, *, status: Status | None = None
) -> None:
    """Extend the lease (and move to ``status``); LeaseLost if the submission is no longer ours."""
    values: dict[str, Any] = {"lease_until": utcnow() + timedelta(seconds=seconds)}
    if status is not None:
        values["status"] = status
    with sessions.begin() as s:
        if not _guarded_update(s, c, values):
            raise LeaseLost(f"submission {c.submission_id} attempt {c.attempt}")


def record_results(
    sessions: sessionmaker[Session], c: Claim, rows: list[dict[str, Any]], lease_seconds: float
) -> None:
    """Write per-test results idempotently, renewing the lease in the same transaction.

    The guarded UPDATE comes first: it takes the row's write lock, so a concurrent claim by
    another worker waits for this transaction and then sees the bumped lease, or commits first
    and makes this one write nothing.
    """
    with sessions.begin() as s:
        values = {"lease_until": utcnow() + timedelta(seconds=lease_seconds)}
        if not _guarded_update(s, c, values):
            raise LeaseLost(f"submission {c.submission_id} attempt {c.attempt}")
        _upsert_results(s, c, rows)


_KEY = ("submission_id", "test_index")


@functools.lru_cache(maxsize=64)
def _upsert_statement(dialect: str, columns: tuple[str, ...]) -> Any:
    """One INSERT .. ON CONFLICT DO UPDATE per (dialect, columns), with bound parameters:
    building it for every row cost a grading of ten tests ~6 ms (profiled)."""
    mod = sqlite if dialect == "sqlite" else postgresql
    ins = mod.insert(_RESULTS)
    return ins.on_conflict_do_update(
        index_elements=list(_KEY), set_={k: ins.excluded[k] for k in columns if k not in _KEY}
    )


def _upsert_results(s: Session, c: Claim, rows: Iterable[dict[str, Any]]) -> None:
    dialect = s.get_bind().dialect.name
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = {"submission_id": c.submission_id, **row}
        groups.setdefault(tuple(sorted(values)), []).append(values)
    for columns, group in groups.items():
        if dialect in ("sqlite", "postgresql"):
            s.execute(_upsert_statement(dialect, columns), group)
            continue
        # Other backends: delete-then-insert inside the same transaction is just as idempotent.
        for values in group:
            s.execute(
                delete(TestResult).where(
                    TestResult.submission_id == values["submission_id"],
                    TestResult.test_index == values["test_index"],
                )
            )
            s.add(TestResult(**values))


def finish(
    sessions: sessionmaker[Session],
    c: Claim,
    values: Mapping[str, Any],
    rows: Iterable[dict[str, Any]] = (),
) -> Ended:
    """Close the grading as done with its verdict, writing the last per-test `rows` in the
    same transaction; LeaseLost if someone else owns it now. Returns the submission's queue
    and user, read by the same UPDATE (RETURNING), for whoever releases the user's next."""
    final = {
        "status": Status.DONE,
        "finished_at": utcnow(),
        "lease_until": None,
        "message": None,
        **values,
    }
    with sessions.begin() as s:
        stmt = _guarded(tuple(sorted(final)), returning=True)
        row = s.execute(stmt, _guarded_params(c, final)).first()
        if row is None:
            raise LeaseLost(f"submission {c.submission_id} attempt {c.attempt}")
        _upsert_results(s, c, rows)
        # The outbox: the webhook is written with the verdict, or neither is.
        webhooks.queue_for_submission(s, c.submission_id)
    return Ended(row.queue, row.user_id)


def fail(sessions: sessionmaker[Session], c: Claim, message: str) -> bool:
    """End the submission as IE (status error), keeping ``message`` for the admin."""
    values = {
        "status": Status.ERROR,
        "verdict": Verdict.IE,
        "message": message,
        "finished_at": utcnow(),
        "lease_until": None,
    }
    with sessions.begin() as s:
        if not _guarded_update(s, c, values):
            return False
        webhooks.queue_for_submission(s, c.submission_id)
        return True


def release(sessions: sessionmaker[Session], c: Claim, message: str) -> bool:
    """Put the submission back in the queue after an internal error, for another attempt."""
    values = {
        "status": Status.QUEUED,
        "message": message,
        "lease_until": None,
        "lease_owner": None,
        "enqueued_at": utcnow(),
    }
    with sessions.begin() as s:
        return _guarded_update(s, c, values)
