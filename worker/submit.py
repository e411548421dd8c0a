"""Creating and re-grading submissions: commit the row first, then send the wake-up message.

If the broker is down when the message is sent, the submission is still safe in the database:
the sweeper re-sends messages for queued rows whose message is gone (``JUDGE_RESEND_AFTER``).
A user's interactive submissions beyond their share wait in the database (worker.shares).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from store.models import (
    Problem,
    Submission,
    SubmissionCallback,
    SubmissionHistory,
    TestResult,
    User,
)
from store.types import utcnow
from store.vocab import FINISHED, IN_PROGRESS, Status
from worker import languages, shares

log = logging.getLogger(__name__)

MAX_SOURCE_BYTES = 256 << 10  # all of a submission's files together
MAX_FILES = 64
# Plain names only: a file named "../x" or "/etc/x" must not address anything in the box.
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")
QUEUES = ("interactive", "batch")


class SubmitError(ValueError):
    """The submission is not acceptable; the message says why (for a 400/404 answer)."""


class UnknownProblem(SubmitError):
    pass


def create_submission(
    session: Session,
    problem_slug: str,
    language: str,
    source: str,
    user: User | int | None = None,
    queue: str = "interactive",
    files: Mapping[str, str] | None = None,
) -> Submission:
    """Validate and add a queued submission without committing or enqueueing.

    ``files``: the other files of a multi-file submission (``source`` is its entry point).

    For callers that create many rows in one transaction (batches): commit, then call
    :func:`enqueue_many` with the ids.
    """
    if queue not in QUEUES:
        raise SubmitError(f"queue must be one of {', '.join(QUEUES)}")
    check_source(language, source, files)
    problem = session.scalars(select(Problem).where(Problem.slug == problem_slug)).one_or_none()
    if problem is None:
        raise UnknownProblem(f"no problem {problem_slug!r}")
    sub = Submission(
        problem=problem,
        language=language,
        source=source,
        queue=queue,
        status=Status.QUEUED,
        enqueued_at=utcnow(),
        max_score=problem.max_score,
        files=dict(files) if files else None,
    )
    if isinstance(user, User):
        sub.user = user
    elif user is not None:
        sub.user_id = user
    session.add(sub)
    session.flush()
    return sub


def check_source(language: str, source: str, files: Mapping[str, str] | None = None) -> None:
    """SubmitError unless the language is known here and the sources are within the caps."""
    try:
        lang = languages.get(language)
    except languages.UnknownLanguage as e:
        raise SubmitError(str(e)) from None
    files = files or {}
    if len(files) > MAX_FILES:
        raise SubmitError(f"at most {MAX_FILES} files besides the entry point")
    for name in files:
        if not _FILE_NAME.fullmatch(name) or name == lang.source:
            raise SubmitError(f"files: {name!r} is not a plain file name (or is the entry point's)")
    size = len(source.encode()) + sum(len(t.encode()) for t in files.values())
    if size > MAX_SOURCE_BYTES:
        raise SubmitError(f"source is larger than {MAX_SOURCE_BYTES >> 10} KiB")


def submit(
    session: Session,
    problem_slug: str,
    language: str,
    source: str,
    user: User | int | None = None,
    queue: str = "interactive",
    files: Mapping[str, str] | None = None,
    callback: tuple[str, int] | None = None,
) -> int:
    """Store a submission, commit, and wake a worker; returns the submission id.

    ``callback``: (URL, API token id) of its webhook, stored in the same transaction."""
    sub = create_submission(
        session, problem_slug, language, source, user=user, queue=queue, files=files
    )
    if callback is not None:
        session.flush()
        session.add(SubmissionCallback(submission_id=sub.id, url=callback[0],
                                       token_id=callback[1]))  # fmt: skip
    send = [sub.id]
    if sub.user_id is not None and shares.holds(queue, sub.user_id):
        # Held until it is among the user's share (worker.shares): one user's flood must not
        # stand in the broker's queue ahead of everyone else's next submission.
        sub.enqueued_at = None
        session.flush()
        send = shares.release_user(session, sub.user_id)
    session.commit()
    enqueue_many((sid, queue) for sid in send)
    return sub.id


def enqueue_many(items: Iterable[tuple[int, str]]) -> None:
    """Send wake-up messages; a broker failure is logged, not raised (the sweeper re-sends)."""
    from worker.celery_app import enqueue  # the Celery app is only loaded by code that sends

    for sid, queue in items:
        try:
            enqueue(sid, queue)
        except Exception:
            log.exception("could not enqueue submission %s; the sweeper will re-send it", sid)


def rejudge(
    session: Session,
    submission_ids: Iterable[int],
    queue: str = "batch",
    *,
    batch_id: int | None = None,
) -> list[int]:
    """Grade finished submissions again (new tests, a fixed checker); returns the ids re-queued.

    Submissions being graded right now are left alone: their grading is already current. The
    grading each one had is kept in ``submission_history`` (``batch_id``: the rejudge batch).
    """
    requeued = requeue(session, submission_ids, queue, batch_id=batch_id)
    session.commit()
    enqueue_many((sid, queue) for sid in requeued)
    return requeued


#: Rows per statement when requeueing many submissions (SQLite caps bound parameters).
_CHUNK = 500


def requeue(
    session: Session,
    submission_ids: Iterable[int],
    queue: str = "batch",
    *,
    batch_id: int | None = None,
) -> list[int]:
    """:func:`rejudge` without the commit and the messages: for callers adding more rows to the
    same transaction (a rejudge batch), which then commit and call :func:`enqueue_many`."""
    if queue not in QUEUES:
        raise SubmitError(f"queue must be one of {', '.join(QUEUES)}")
    ids = list(dict.fromkeys(submission_ids))
    requeued: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        requeued += _requeue_chunk(session, ids[start : start + _CHUNK], queue, batch_id)
    return requeued


def _requeue_chunk(session: Session, ids: list[int], queue: str, batch_id: int | None) -> list[int]:
    # Read what each finished grading was before resetting it. FOR UPDATE (PostgreSQL; SQLite
    # writes one at a time anyway) keeps a concurrent rejudge from snapshotting the same rows.
    previous = {
        row.id: row
        for row in session.execute(
            select(*_SNAPSHOT_COLUMNS)
            .where(Submission.id.in_(ids), Submission.status.in_(FINISHED))
            .with_for_update()
        )
    }
    requeued = list(
        session.execute(
            update(Submission)
            .where(Submission.id.in_(ids), Submission.status.not_in(IN_PROGRESS))
            .values(
                status=Status.QUEUED,
                queue=queue,
                attempts=0,
                verdict=None,
                score=None,
                time=None,
                memory=None,
                compile_output=None,
                message=None,
                lease_until=None,
                lease_owner=None,
                started_at=None,
                finished_at=None,
                enqueued_at=utcnow(),
            )
            .returning(Submission.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    if not requeued:
        return []
    kept = [sid for sid in requeued if sid in previous]
    tests: dict[int, list[dict[str, Any]]] = {sid: [] for sid in kept}
    if kept:
        for r in session.execute(
            select(*_RESULT_COLUMNS)
            .where(TestResult.submission_id.in_(kept))
            .order_by(TestResult.submission_id, TestResult.test_index)
        ):
            row = r._asdict()
            tests[row.pop("submission_id")].append({**row, "verdict": str(row["verdict"])})
    now = utcnow()
    for sid in kept:
        p = previous[sid]
        session.add(
            SubmissionHistory(
                submission_id=sid,
                batch_id=batch_id,
                status=p.status,
                verdict=p.verdict,
                score=p.score,
                max_score=p.max_score,
                time=p.time,
                memory=p.memory,
                compile_output=p.compile_output,
                message=p.message,
                tests=tests[sid],
                graded_at=p.finished_at,
                replaced_at=now,
            )
        )
    session.execute(delete(TestResult).where(TestResult.submission_id.in_(requeued)))
    session.flush()
    return requeued


_SNAPSHOT_COLUMNS = (
    Submission.id,
    Submission.status,
    Submission.verdict,
    Submission.score,
    Submission.max_score,
    Submission.time,
    Submission.memory,
    Submission.compile_output,
    Submission.message,
    Submission.finished_at,
)
#: The per-test fields a history entry keeps (and a cancelled rejudge writes back).
_RESULT_COLUMNS = (
    TestResult.submission_id,
    TestResult.test_index,
    TestResult.verdict,
    TestResult.points,
    TestResult.cpu_time,
    TestResult.wall_time,
    TestResult.memory,
    TestResult.oom_killed,
    TestResult.exit_code,
    TestResult.signal,
    TestResult.message,
)


def rejudge_problem(session: Session, problem_slug: str, queue: str = "batch") -> list[int]:
    """Rejudge every submission of a problem (``POST /api/problems/{slug}/rejudge``)."""
    problem_id = session.scalars(select(Problem.id).where(Problem.slug == problem_slug)).first()
    if problem_id is None:
        raise UnknownProblem(f"no problem {problem_slug!r}")
    ids = session.scalars(select(Submission.id).where(Submission.problem_id == problem_id)).all()
    return rejudge(session, ids, queue=queue)
