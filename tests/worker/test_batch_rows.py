"""Batch bookkeeping on both backends, without a broker: what rows a batch, a rejudge and a
cancel leave (the messages are recorded instead of sent)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store import (
    Batch,
    Status,
    Submission,
    SubmissionHistory,
    TestResult,
    User,
    Verdict,
    import_problem,
    utcnow,
)
from worker import batches
from worker.batches import Entry

PROBLEM = {
    "slug": "p",
    "tests": [{"input": "1\n", "output": "1\n"}, {"input": "2\n", "output": "2\n"}],
}
SRC = "print(input())\n"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    import worker.celery_app

    messages: list[tuple[int, str]] = []

    def enqueue(sid: int, queue: str, countdown: float = 0.0, priority: int = 0) -> None:
        messages.append((sid, queue))

    monkeypatch.setattr(worker.celery_app, "enqueue", enqueue)
    return messages


def _graded(sessions: sessionmaker[Session], sid: int, verdict: Verdict) -> None:
    """Finish a submission as a worker would have (two tests, the first one decides)."""
    with sessions.begin() as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        sub.status, sub.verdict, sub.score, sub.time, sub.memory = (
            Status.DONE, verdict, 2.0 if verdict is Verdict.AC else 0.0, 0.01, 1 << 20
        )  # fmt: skip
        sub.attempts, sub.started_at, sub.finished_at = 1, utcnow(), utcnow()
        for i in (1, 2):
            v = verdict if i == 1 else (Verdict.AC if verdict is Verdict.AC else Verdict.SK)
            s.add(TestResult(submission_id=sid, test_index=i, verdict=v, cpu_time=0.01,
                             memory=1 << 20, message=f"test {i}"))  # fmt: skip


def test_upload_rejudge_cancel_rows(
    sessions: sessionmaker[Session], sent: list[tuple[int, str]]
) -> None:
    with sessions.begin() as s:
        import_problem(s, PROBLEM)
        s.add(User(name="ann"))
    with sessions() as s:
        owner = s.scalars(select(User.id)).one()
        batch = batches.create_batch(
            s, "p", [Entry("a", SRC, "python3"), Entry("b", error="b.xyz: unknown extension"),
                     Entry("c", SRC, "python3")], owner=owner,
        )  # fmt: skip
    sids = [i.submission_id for i in batch.items if i.submission_id is not None]
    assert sent == [(sid, "batch") for sid in sids] and len(sids) == 2
    with sessions() as s:
        subs = [s.get(Submission, sid) for sid in sids]
        assert all(x is not None and x.queue == "batch" and x.user_id == owner for x in subs)

    _graded(sessions, sids[0], Verdict.AC)
    _graded(sessions, sids[1], Verdict.WA)
    sent.clear()
    with sessions() as s:
        rejudge, ids = batches.rejudge_batch(s, "p", owner=owner)
    assert rejudge is not None and ids == sids and sent == [(sid, "batch") for sid in sids]
    assert [i.name for i in rejudge.items] == [f"ann#{sid}" for sid in sids]
    with sessions() as s:
        for sid in sids:
            sub = s.get(Submission, sid)
            assert sub is not None and sub.status is Status.QUEUED and sub.verdict is None
            assert s.scalars(select(TestResult).where(TestResult.submission_id == sid)).all() == []
        (h,) = s.scalars(
            select(SubmissionHistory).where(SubmissionHistory.submission_id == sids[1])
        ).all()
        assert (h.verdict, h.batch_id, [t["verdict"] for t in h.tests]) == (
            Verdict.WA, rejudge.id, ["WA", "SK"]
        )  # fmt: skip

    # One of them gets claimed before the cancel: it is not touched, the other is restored.
    with sessions.begin() as s:
        s.get(Submission, sids[0]).status = Status.RUNNING  # type: ignore[union-attr]
    with sessions() as s:
        report = batches.cancel_batch(s, rejudge.id)
    assert (report.skipped, report.restored) == (0, 1)
    with sessions() as s:
        back = s.get(Submission, sids[1])
        assert back is not None and (back.status, back.verdict, back.score) == (
            Status.DONE, Verdict.WA, 0.0
        )  # fmt: skip
        rows = s.scalars(
            select(TestResult).where(TestResult.submission_id == sids[1]).order_by(
                TestResult.test_index)
        ).all()  # fmt: skip
        assert [(r.verdict, r.message) for r in rows] == [
            (Verdict.WA, "test 1"), (Verdict.SK, "test 2")
        ]  # fmt: skip
        running = s.get(Submission, sids[0])
        assert running is not None and running.status is Status.RUNNING
        assert s.get(Batch, rejudge.id).cancelled_at is not None  # type: ignore[union-attr]

    # The upload batch cancelled now: nothing queued is left in it, so nothing changes.
    with sessions() as s:
        assert batches.cancel_batch(s, batch.id) == batches.CancelReport(0, 0)


def test_rejudge_without_submissions_makes_no_batch(
    sessions: sessionmaker[Session], sent: list[tuple[int, str]]
) -> None:
    with sessions.begin() as s:
        import_problem(s, PROBLEM)
    with sessions() as s:
        assert batches.rejudge_batch(s, "p") == (None, [])
        assert s.scalars(select(Batch)).all() == []
    assert sent == []


def test_cancel_an_upload_skips_what_is_queued(
    sessions: sessionmaker[Session], sent: list[tuple[int, str]]
) -> None:
    with sessions.begin() as s:
        import_problem(s, PROBLEM)
    with sessions() as s:
        batch = batches.create_batch(s, "p", [Entry(f"n{i}", SRC) for i in range(3)],
                                     language="python3")  # fmt: skip
    sids = [i.submission_id for i in batch.items]
    _graded(sessions, sids[0], Verdict.AC)  # type: ignore[arg-type]
    with sessions() as s:
        assert batches.cancel_batch(s, batch.id).skipped == 2
    with sessions() as s:
        verdicts = [s.get(Submission, sid).verdict for sid in sids]  # type: ignore[union-attr,arg-type]
    assert verdicts == [Verdict.AC, Verdict.SK, Verdict.SK]
