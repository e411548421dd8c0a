"""Batches for the web: uploads in (JSON lists, zips of ``<name>.<ext>``), progress and results out.

Shared by the API (web.api.batches), the admin pages and, through the API, ``judge batch``.
A zip that is not a zip is a 400; inside a good zip, a file that cannot be graded (unknown
extension, not UTF-8, too large, unreadable) is reported as that item's error and the rest go on.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections import Counter
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, selectinload

import worker
from store import Batch, BatchItem, Submission, SubmissionHistory, TestResult
from store.vocab import FINISHED, Status
from web import grading
from web.errors import ApiError
from worker.batches import MAX_ITEMS, Entry, entry_from_file

_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)
#: Files a zip tool or a desktop adds that are nobody's homework.
_JUNK_PREFIXES = ("__MACOSX/",)


# --- in ---------------------------------------------------------------------------------------


class BatchSubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["alice"])
    language: str | None = Field(default=None, description="default: the batch's language")
    source: str


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    problem: str = Field(description="problem slug", examples=["aplusb"])
    language: str | None = Field(default=None, description="for submissions that name none")
    as_accounts: bool = Field(
        default=False,
        description="a submission named exactly as an existing account is that student's",
    )
    callback_url: str | None = Field(
        default=None,
        max_length=2000,
        description="POSTed a signed batch.finished webhook once every item has ended",
    )
    submissions: list[BatchSubmissionIn] = Field(min_length=1, max_length=MAX_ITEMS)


def entries_from_json(body: BatchIn, max_bytes: int) -> list[Entry]:
    entries = []
    for s in body.submissions:
        if len(s.source.encode()) > max_bytes:
            entries.append(Entry(s.name, error=f"larger than {max_bytes} bytes"))
        else:
            entries.append(Entry(s.name, source=s.source, language=s.language))
    return entries


def entries_from_zip(data: bytes, language: str | None, max_bytes: int) -> list[Entry]:
    """One entry per file, named after the file (``hw/alice.py`` -> ``alice``), sorted by path."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as e:
        raise ApiError(400, f"the archive is not a readable zip: {e}") from None
    with zf:
        infos = sorted(
            (
                i
                for i in zf.infolist()
                if not i.is_dir()
                and not i.filename.startswith(_JUNK_PREFIXES)
                and not PurePosixPath(i.filename).name.startswith(".")
            ),
            key=lambda i: i.filename,
        )
        if len(infos) > MAX_ITEMS:
            raise ApiError(413, f"at most {MAX_ITEMS} files in one batch")
        entries = []
        for info in infos:
            name = PurePosixPath(info.filename).name
            if info.file_size > max_bytes:
                stem = PurePosixPath(name).stem
                entries.append(Entry(stem, error=f"{name}: larger than {max_bytes} bytes"))
                continue
            try:
                # Read at most one byte past the cap: a lying header cannot unpack a bomb here.
                with zf.open(info) as f:
                    raw = f.read(max_bytes + 1)
            except _ZIP_ERRORS as e:
                entries.append(Entry(PurePosixPath(name).stem, error=f"{name}: unreadable: {e}"))
                continue
            entries.append(entry_from_file(name, raw, language, max_bytes))
    if not entries:
        raise ApiError(422, "the archive holds no files")
    return entries


def create(
    session: Session, problem: str, language: str | None, entries: list[Entry], owner: int,
    *, as_accounts: bool = False, callback: tuple[str, int] | None = None,
) -> int:  # fmt: skip
    """Store the batch, wake the workers; its id. 404 unknown problem, 422 unusable batch."""
    if language is not None:
        grading.check_language(language)
    try:
        return worker.batches.create_batch(
            session, problem, entries, language=language, owner=owner, as_accounts=as_accounts,
            callback=callback,
        ).id
    except worker.UnknownProblem as e:
        raise ApiError(404, str(e)) from None
    except worker.SubmitError as e:
        raise ApiError(422, str(e)) from None


def rejudge(session: Session, slug: str, owner: int | None) -> tuple[int | None, list[int]]:
    """Every submission of the problem graded again, as a batch: (batch id or None, ids)."""
    try:
        batch, ids = worker.batches.rejudge_batch(session, slug, owner=owner)
    except worker.UnknownProblem as e:
        raise ApiError(404, str(e)) from None
    return (batch.id if batch else None), ids


def cancel(session: Session, batch_id: int) -> None:
    try:
        worker.batches.cancel_batch(session, batch_id)
    except worker.batches.UnknownBatch as e:
        raise ApiError(404, str(e)) from None


# --- out --------------------------------------------------------------------------------------


class BatchItemOut(BaseModel):
    name: str
    submission_id: int | None
    status: str = Field(description="the submission's status; 'error': no submission was made")
    verdict: str | None
    score: float | None
    max_score: float | None = None
    time: float | None = None
    memory: int | None = None
    language: str | None = None
    error: str | None = Field(default=None, description="why this file was not graded")
    previous_verdict: str | None = Field(
        default=None, description="rejudge batches: the verdict before this rejudge"
    )


class BatchOut(BaseModel):
    id: int
    problem: str
    kind: str = Field(description="'upload' or 'rejudge'")
    status: str = Field(description="queued, running, done or cancelled")
    total: int
    done: int = Field(description="items finished, errors included")
    counts: dict[str, int] = Field(description="verdict -> number of finished submissions")
    errors: int = Field(description="items that could not be graded at all")
    created_at: str
    cancelled_at: str | None
    items: list[BatchItemOut]


class BatchSummary(BaseModel):
    id: int
    problem: str
    kind: str
    status: str
    total: int
    done: int
    created_at: str


class ResultOut(BatchItemOut):
    tests: list[str] = Field(description="per-test verdicts in test order")


def load(session: Session, batch_id: int) -> Batch:
    """The batch row (and its problem); 404 if there is none. Items are read by ``out``."""
    batch = session.scalars(
        select(Batch).where(Batch.id == batch_id).options(selectinload(Batch.problem))
    ).first()
    if batch is None:
        raise ApiError(404, f"no batch {batch_id}")
    return batch


# Only the columns a progress report needs: never the sources (a page polls this every second,
# and a batch may hold thousands of submissions of up to 256 KiB each).
_ITEM_COLUMNS = (
    BatchItem.name,
    BatchItem.error,
    BatchItem.submission_id,
    Submission.status,
    Submission.verdict,
    Submission.score,
    Submission.max_score,
    Submission.time,
    Submission.memory,
    Submission.language,
)


def _items(session: Session, batch: Batch) -> list[BatchItemOut]:
    previous: dict[int, str | None] = {}
    if batch.kind == "rejudge":
        history = session.execute(
            select(SubmissionHistory.submission_id, SubmissionHistory.verdict)
            .where(SubmissionHistory.batch_id == batch.id)
            .order_by(SubmissionHistory.id)
        )
        previous = {sid: str(v) if v else None for sid, v in history}
    rows = session.execute(
        select(*_ITEM_COLUMNS)
        .outerjoin(Submission, Submission.id == BatchItem.submission_id)
        .where(BatchItem.batch_id == batch.id)
        .order_by(BatchItem.id)
    )
    items = []
    for name, error, sid, status, verdict, score, max_score, time, memory, language in rows:
        if sid is None:
            items.append(BatchItemOut(name=name, submission_id=None, status="error",
                                      verdict=None, score=None, error=error or "not graded"))  # fmt: skip
            continue
        items.append(
            BatchItemOut(
                name=name,
                submission_id=sid,
                status=str(status),
                verdict=str(verdict) if verdict else None,
                score=score,
                max_score=max_score,
                time=time,
                memory=memory,
                language=language,
                error=error,
                previous_verdict=previous.get(sid),
            )
        )
    return items


def _progress(batch: Batch, items: list[BatchItemOut]) -> tuple[str, int, Counter[str], int]:
    done = errors = 0
    started = False
    counts: Counter[str] = Counter()
    for item in items:
        if item.submission_id is None:
            done += 1
            errors += 1
        elif item.status in FINISHED:
            done += 1
            started = True
            if item.verdict is not None:
                counts[item.verdict] += 1
        elif item.status != Status.QUEUED:
            started = True
    if batch.cancelled_at is not None:
        status = "cancelled"
    elif done == len(items):
        status = "done"
    else:
        status = "running" if started else "queued"
    return status, done, counts, errors


def out(session: Session, batch: Batch) -> BatchOut:
    items = _items(session, batch)
    status, done, counts, errors = _progress(batch, items)
    return BatchOut(
        id=batch.id,
        problem=batch.problem.slug,
        kind=batch.kind,
        status=status,
        total=len(items),
        done=done,
        counts=dict(sorted(counts.items())),
        errors=errors,
        created_at=batch.created_at.isoformat(),
        cancelled_at=batch.cancelled_at.isoformat() if batch.cancelled_at else None,
        items=items,
    )


def results(session: Session, batch: Batch) -> list[ResultOut]:
    """One row per item with its per-test verdicts in test order."""
    tests: dict[int, list[str]] = {}
    rows = session.execute(
        select(TestResult.submission_id, TestResult.verdict)
        .join(BatchItem, BatchItem.submission_id == TestResult.submission_id)
        .where(BatchItem.batch_id == batch.id)
        .order_by(TestResult.submission_id, TestResult.test_index)
    )
    for sid, verdict in rows:
        tests.setdefault(sid, []).append(str(verdict))
    return [
        ResultOut(**item.model_dump(), tests=tests.get(item.submission_id or 0, []))
        for item in _items(session, batch)
    ]


CSV_COLUMNS = ("name", "verdict", "score", "time", "memory", "tests", "error")


def _cell(text: str) -> str:
    # A student's file name is data, not a spreadsheet formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def results_csv(rows: list[ResultOut]) -> str:
    """name, verdict, score, time (s), memory (bytes), tests (per-test verdicts), error."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([
            _cell(r.name),
            r.verdict or "",
            "" if r.score is None else f"{r.score:g}",
            "" if r.time is None else f"{r.time:.3f}",
            "" if r.memory is None else str(r.memory),
            " ".join(r.tests),
            _cell(r.error or ""),
        ])  # fmt: skip
    return buf.getvalue()


def recent(session: Session, limit: int = 100) -> list[BatchSummary]:
    """The newest batches with their progress, counted in SQL (no item is loaded)."""
    finished = or_(BatchItem.submission_id.is_(None), Submission.status.in_(FINISHED))
    started = or_(finished, Submission.status != Status.QUEUED)
    counts = (
        select(
            BatchItem.batch_id,
            func.count().label("total"),
            func.sum(case((finished, 1), else_=0)).label("done"),
            func.sum(case((started, 1), else_=0)).label("started"),
        )
        .outerjoin(Submission, Submission.id == BatchItem.submission_id)
        .group_by(BatchItem.batch_id)
        .subquery()
    )
    rows = session.execute(
        select(Batch, counts.c.total, counts.c.done, counts.c.started)
        .outerjoin(counts, counts.c.batch_id == Batch.id)
        .options(selectinload(Batch.problem))
        .order_by(Batch.id.desc())
        .limit(limit)
    ).all()
    out = []
    for batch, total, done, started in rows:
        total, done = int(total or 0), int(done or 0)
        if batch.cancelled_at is not None:
            status = "cancelled"
        elif done == total:
            status = "done"
        else:
            status = "running" if started else "queued"
        out.append(BatchSummary(id=batch.id, problem=batch.problem.slug, kind=batch.kind,
                                status=status, total=total, done=done,
                                created_at=batch.created_at.isoformat()))  # fmt: skip
    return out
