"""Batches: many submissions of one problem, graded on the ``batch`` queue.

Two kinds, one table (store.Batch): an *upload* (a class's homework: new submissions made from
named sources, a JSON list or the files of a zip) and a *rejudge* (every finished submission of a
problem graded again). Interactive work is never stuck behind either: batch messages go to the
``batch`` queue, which every worker polls only when ``interactive`` is empty (worker.celery_app).

::

    entries = [batches.entry_from_file("alice.py", data), batches.Entry("bob", source, "c")]
    batch = batches.create_batch(session, "aplusb", entries, language=None, owner=user_id)
        # commits, then sends one message per submission; a bad entry becomes an item with an
        # ``error`` (unknown extension, not UTF-8, too large ...) and the rest go ahead
    batch, ids = batches.rejudge_batch(session, "aplusb", owner=user_id)   # None if nothing
    report = batches.cancel_batch(session, batch_id)

Cancelling ends every item still queued: an upload's as ``SK`` ("cancelled"), a rejudge's by
restoring the grading it had before (from submission_history), so a cancelled rejudge loses
nothing. Items being graded at that moment finish normally; nothing else is graded. The queued
messages stay in Redis and cost a worker one failed claim each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from store.models import (
    Batch,
    BatchItem,
    Problem,
    Submission,
    SubmissionHistory,
    TestResult,
    User,
)
from store.types import utcnow
from store.vocab import IN_PROGRESS, Status, Verdict
from worker import languages
from worker.submit import (
    MAX_SOURCE_BYTES,
    SubmitError,
    UnknownProblem,
    check_source,
    enqueue_many,
    requeue,
)

log = logging.getLogger(__name__)

#: Entries in one batch; a whole school's homework fits, a runaway script does not.
MAX_ITEMS = 5000
MAX_NAME = 200

#: File extensions that name a language, beyond each language's own source file suffix.
_EXTRA_EXTENSIONS = {
    ".cc": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".py3": "python3",
    ".mjs": "javascript",
    ".bash": "bash",
}


class UnknownBatch(SubmitError):
    pass


@dataclass(frozen=True)
class Entry:
    """One named source of an upload; ``error`` set: no submission, only a reported item."""

    name: str
    source: str | None = None
    language: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class CancelReport:
    skipped: int  # queued upload items that end as SK
    restored: int  # queued rejudge items given back the verdict they had before


def extensions() -> dict[str, str]:
    """``{".py": "python3", ...}``: every language's source suffix plus common aliases."""
    found = {PurePosixPath(lang.source).suffix.lower(): lang.id for lang in languages.LANGUAGES}
    return {**_EXTRA_EXTENSIONS, **found}


def language_for(filename: str) -> str | None:
    return extensions().get(PurePosixPath(filename).suffix.lower())


def entry_from_file(
    filename: str, data: bytes, language: str | None = None, max_bytes: int = MAX_SOURCE_BYTES
) -> Entry:
    """An entry named after the file's stem (``alice.py`` -> ``alice``).

    The language is ``language`` when given, else the extension's; what cannot be graded (no
    language, not UTF-8, a NUL byte, too large) is an entry with an error, never an exception.
    """
    path = PurePosixPath(filename)
    name = (path.stem or path.name)[:MAX_NAME]
    lang = language or language_for(filename)
    if lang is None:
        return Entry(name, error=f"{filename}: unknown extension {path.suffix or '(none)'!r}; "
                     "name files <name>.<ext> (.c .cpp .py .java ...) or give a language")  # fmt: skip
    if len(data) > max_bytes:
        return Entry(name, language=lang, error=f"{filename}: larger than {max_bytes} bytes")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return Entry(name, language=lang, error=f"{filename}: not UTF-8 text (byte {e.start})")
    return Entry(name, source=source, language=lang)


def create_batch(
    session: Session,
    problem_slug: str,
    entries: Sequence[Entry],
    *,
    language: str | None = None,
    owner: int | None = None,
    as_accounts: bool = False,
    callback: tuple[str, int] | None = None,
) -> Batch:
    """Store a batch and its submissions in one transaction, commit, then wake the workers.

    ``language`` is the default for entries without one. ``as_accounts``: an entry named
    exactly as an existing account is that student's submission (their page, their scores);
    the others stay the owner's. UnknownProblem / SubmitError (both ValueError) for a batch
    that cannot be made at all; a bad entry only makes an error item. ``callback``: (URL,
    token id) of the webhook sent once every item has ended (store.webhooks).
    """
    problem = session.scalars(select(Problem).where(Problem.slug == problem_slug)).one_or_none()
    if problem is None:
        raise UnknownProblem(f"no problem {problem_slug!r}")
    if language is not None:
        try:
            languages.get(language)
        except languages.UnknownLanguage as e:
            raise SubmitError(str(e)) from None
    if not entries:
        raise SubmitError("a batch needs at least one submission")
    if len(entries) > MAX_ITEMS:
        raise SubmitError(f"at most {MAX_ITEMS} submissions in one batch")

    accounts: dict[str, int] = {}
    if as_accounts:
        names = {e.name.strip() for e in entries}
        accounts = dict(session.execute(select(User.name, User.id).where(User.name.in_(names))).all())
    batch = Batch(problem=problem, language=language, owner_id=owner, kind="upload")
    if callback is not None:
        batch.callback_url, batch.callback_token_id = callback
    session.add(batch)
    taken: set[str] = set()
    now, max_score = utcnow(), problem.max_score
    # The same rows create_submission makes, added together: one flush for the whole batch
    # (a flush per row costs time proportional to the rows already in the session).
    for entry in entries:
        name = _unique(entry.name.strip() or "unnamed", taken)
        item = BatchItem(name=name, error=entry.error)
        lang = entry.language or language
        if item.error is None:
            item.error = _problem_with(entry.source, lang)
        if item.error is None and entry.source is not None and lang is not None:
            item.submission = Submission(
                problem=problem, user_id=accounts.get(entry.name.strip(), owner),
                language=lang, source=entry.source,
                queue="batch", status=Status.QUEUED, enqueued_at=now, max_score=max_score,
            )  # fmt: skip
        batch.items.append(item)
    session.flush()
    queued = [item.submission.id for item in batch.items if item.submission is not None]
    session.commit()
    enqueue_many((sid, "batch") for sid in queued)
    log.info("batch %s: %s submissions queued, %s rejected",
             batch.id, len(queued), len(entries) - len(queued))  # fmt: skip
    return batch


def _problem_with(source: str | None, language: str | None) -> str | None:
    """Why this source cannot be graded, or None."""
    if source is None:
        return "no source"
    if language is None:
        return "no language given"
    if "\x00" in source:
        return "the source contains a NUL character"
    try:
        check_source(language, source)
    except SubmitError as e:
        return str(e)
    return None


def _unique(name: str, taken: set[str]) -> str:
    name = name[:MAX_NAME]
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        suffix = f" ({n})"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def rejudge_batch(
    session: Session, problem_slug: str, *, owner: int | None = None
) -> tuple[Batch | None, list[int]]:
    """Rejudge every submission of a problem as one batch; (None, []) when there is none.

    Items are named ``<user>#<id>``. Submissions being graded right now are left out (their
    grading is current), as in :func:`worker.rejudge`.
    """
    problem = session.scalars(select(Problem).where(Problem.slug == problem_slug)).one_or_none()
    if problem is None:
        raise UnknownProblem(f"no problem {problem_slug!r}")
    batch = Batch(problem=problem, owner_id=owner, kind="rejudge")
    session.add(batch)
    session.flush()
    ids = session.scalars(
        select(Submission.id)
        .where(Submission.problem_id == problem.id, Submission.status.not_in(IN_PROGRESS))
        .order_by(Submission.id)
    ).all()
    requeued = requeue(session, ids, "batch", batch_id=batch.id)
    if not requeued:
        session.rollback()
        return None, []
    rows = session.execute(
        select(Submission.id, Submission.user_id).where(Submission.id.in_(requeued))
    )
    names: dict[int, int | None] = {sid: uid for sid, uid in rows}
    users = _user_names({uid for uid in names.values() if uid is not None}, session)
    for sid in requeued:
        uid = names.get(sid)
        label = f"{users.get(uid, '')}#{sid}" if uid is not None else f"#{sid}"
        batch.items.append(BatchItem(name=label, submission_id=sid))
    session.flush()
    session.commit()
    enqueue_many((sid, "batch") for sid in requeued)
    log.info("rejudge batch %s of %s: %s submissions", batch.id, problem_slug, len(requeued))
    return batch, requeued


def _user_names(ids: Iterable[int], session: Session) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


def cancel_batch(session: Session, batch_id: int) -> CancelReport:
    """Stop a batch: its queued items end (see the module doc); running ones finish. Idempotent."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise UnknownBatch(f"no batch {batch_id}")
    now = utcnow()
    sids = [
        sid
        for sid in session.scalars(
            select(BatchItem.submission_id).where(
                BatchItem.batch_id == batch_id, BatchItem.submission_id.is_not(None)
            )
        )
        if sid is not None
    ]
    restored = _restore(session, batch_id, sids) if batch.kind == "rejudge" else set()
    rest = [sid for sid in sids if sid not in restored]
    skipped = 0
    for start in range(0, len(rest), 500):
        chunk = rest[start : start + 500]
        result = session.execute(
            update(Submission)
            .where(Submission.id.in_(chunk), Submission.status == Status.QUEUED)
            .values(
                status=Status.DONE,
                verdict=Verdict.SK,
                score=0.0,
                message=f"not graded: batch {batch_id} was cancelled",
                finished_at=now,
                lease_until=None,
                lease_owner=None,
            )
            .execution_options(synchronize_session=False)
        )
        skipped += int(getattr(result, "rowcount", 0) or 0)
    if batch.cancelled_at is None:
        # Stamped after the items are ended, not before: a worker's claim that ran between a
        # stamp taken first and those UPDATEs would have started "after the cancel". From
        # here on every claim of an item finds it ended (SQLite: our write lock; PostgreSQL:
        # our row locks, re-checked when they are released), so all that was graded started
        # before this moment.
        batch.cancelled_at = utcnow()
    session.commit()
    log.info("batch %s cancelled: %s skipped, %s restored", batch_id, skipped, len(restored))
    return CancelReport(skipped=skipped, restored=len(restored))


def _restore(session: Session, batch_id: int, sids: list[int]) -> set[int]:
    """Give queued submissions of a rejudge batch back the grading this batch replaced."""
    if not sids:
        return set()
    # The newest history entry of each submission; only one written by this batch is restored
    # (a later rejudge has replaced the grading since, and owns the submission now).
    newest = (
        select(func.max(SubmissionHistory.id))
        .where(SubmissionHistory.submission_id.in_(sids))
        .group_by(SubmissionHistory.submission_id)
    )
    entries = session.scalars(
        select(SubmissionHistory).where(
            SubmissionHistory.id.in_(newest), SubmissionHistory.batch_id == batch_id
        )
    ).all()
    restored: set[int] = set()
    for h in entries:
        result = session.execute(
            update(Submission)
            .where(Submission.id == h.submission_id, Submission.status == Status.QUEUED)
            .values(
                status=h.status,
                verdict=h.verdict,
                score=h.score,
                max_score=h.max_score,
                time=h.time,
                memory=h.memory,
                compile_output=h.compile_output,
                message=h.message,
                started_at=None,
                finished_at=h.graded_at,
                lease_until=None,
                lease_owner=None,
            )
            .execution_options(synchronize_session=False)
        )
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            continue  # a worker claimed it first: the new grading stands
        session.execute(delete(TestResult).where(TestResult.submission_id == h.submission_id))
        for row in h.tests:
            session.add(TestResult(submission_id=h.submission_id, **{
                **row, "verdict": Verdict(row["verdict"])
            }))  # fmt: skip
        session.delete(h)  # it is the current grading again, not a replaced one
        restored.add(h.submission_id)
    session.flush()
    return restored
