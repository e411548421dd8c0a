"""Verify from the web: a worker runs ``judge problem verify`` (worker.verify), and the admin
page reads its table back from the verify batch while the rows come in. The request itself is
an empty verify batch, so the page shows it waiting until the worker's batch takes over.

The worker task (``judge.verify``, batch queue) grades in its own process, as the CLI does, so
a package without a time limit gets one from its accepted submissions first. A verify that
died half-way (its worker killed) would leave queued rows that no message wakes: the next
verify of the problem ends them first, as a cancelled batch's (``SK``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Batch, BatchItem, PackageSubmission, Problem, Submission
from store.vocab import FINISHED
from worker import batches, languages
from worker.verify import Row, VerifyError, _read


@dataclass
class Table:
    batch_id: int
    time_limit: float
    rows: list[Row]
    done: bool  # every row graded or not run (False too while no worker has started it)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows if r.graded)


def check_startable(session: Session, slug: str) -> None:
    """VerifyError (one line) unless the problem exists and ships submissions."""
    problem = session.scalars(select(Problem).where(Problem.slug == slug)).first()
    if problem is None:
        raise VerifyError(f"no problem {slug!r}")
    shipped = session.scalar(
        select(PackageSubmission.id).where(PackageSubmission.problem_id == problem.id).limit(1)
    )
    if shipped is None:
        raise VerifyError(f"problem {slug!r} ships no submissions to verify")


def request(session: Session, slug: str, owner_id: int | None = None) -> int:
    """Record that a verify was asked for (an empty verify batch, so the page shows it
    waiting for a worker until the worker's own batch comes); the caller commits, then sends
    the task."""
    check_startable(session, slug)
    problem = session.scalars(select(Problem).where(Problem.slug == slug)).one()
    batch = Batch(problem=problem, kind="verify", owner_id=owner_id)
    session.add(batch)
    session.flush()
    return batch.id


def end_unfinished(sessions: sessionmaker[Session], slug: str) -> int:
    """End the queued rows of earlier verify batches of the problem; returns how many."""
    with sessions() as s:
        ids = s.scalars(
            select(Batch.id)
            .join(Problem, Batch.problem_id == Problem.id)
            .where(Problem.slug == slug, Batch.kind == "verify", Batch.cancelled_at.is_(None))
        ).all()
        return sum(batches.cancel_batch(s, bid).skipped for bid in ids)


def latest(session: Session, slug: str) -> int | None:
    """The newest verify batch of the problem (a time-limit probe's included)."""
    return session.scalar(
        select(Batch.id)
        .join(Problem, Batch.problem_id == Problem.id)
        .where(Problem.slug == slug, Batch.kind == "verify")
        .order_by(Batch.id.desc())
        .limit(1)
    )


def table(sessions: sessionmaker[Session], batch_id: int) -> Table:
    """The verify table of a batch as it stands: finished rows read like the CLI's."""
    with sessions() as s:
        batch = s.get(Batch, batch_id)
        if batch is None or batch.kind != "verify":
            raise VerifyError(f"no verify batch {batch_id}")
        problem = s.get(Problem, batch.problem_id)
        assert problem is not None
        shipped = {
            p.name: p
            for p in s.scalars(
                select(PackageSubmission).where(PackageSubmission.problem_id == problem.id)
            )
        }
        items = s.execute(
            select(BatchItem.name, BatchItem.submission_id, BatchItem.error, Submission.status)
            .outerjoin(Submission, BatchItem.submission_id == Submission.id)
            .where(BatchItem.batch_id == batch_id)
            .order_by(BatchItem.id)
        ).all()
        time_limit = problem.time_limit
        # An empty batch is a request no worker has taken up yet (or one that ended early).
        done = bool(items) or batch.cancelled_at is not None
    rows: list[Row] = []
    for name, sid, error, status in items:
        p = shipped.get(name)
        row = Row(name, p.language if p else "?", list(p.expected) if p else [],
                  p.expected_score if p else None, submission_id=sid)  # fmt: skip
        if error:
            row.note = error
        elif sid is not None and status in FINISHED:
            _read(sessions, row)
        else:
            done = False
        rows.append(row)
    listed = {r.name for r in rows}
    for name, p in shipped.items():
        if name in listed:
            continue
        # Not in this batch: a language missing here, or a time-limit probe (accepted only).
        lang = languages.known(p.language)
        note = "not in this run" if lang is not None and lang.available() else (
            f"language {p.language!r} is not installed here")
        rows.append(Row(name, p.language, list(p.expected), p.expected_score, note=note))
    return Table(batch_id, time_limit, rows, done)
