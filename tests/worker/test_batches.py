"""Batches with a real redis-server and real Celery workers: the batch queue, fairness, cancel,
rejudge with history (issue 4)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from worker_test_kit import FINISHED, Judge
from worker_test_programs import APLUSB, APLUSB_SOURCES

import worker
from store import Batch, BatchItem, Status, Submission, SubmissionHistory, TestResult, Verdict
from worker import batches
from worker.batches import Entry

AB = APLUSB_SOURCES["python3"]
AB_WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"


@pytest.fixture
def route(monkeypatch: pytest.MonkeyPatch) -> Callable[[Judge], None]:
    """Send worker.enqueue_many's messages to this judge's own broker (make_judge judges)."""
    import worker.celery_app

    def to(j: Judge) -> None:
        def enqueue(sid: int, queue: str, countdown: float = 0.0, priority: int = 0) -> None:
            j.send(sid, queue)

        monkeypatch.setattr(worker.celery_app, "enqueue", enqueue)

    return to


def _items(j: Judge, batch_id: int) -> list[tuple[BatchItem, Submission | None]]:
    with j.sessions() as s:
        rows = s.execute(
            select(BatchItem, Submission)
            .outerjoin(Submission, Submission.id == BatchItem.submission_id)
            .where(BatchItem.batch_id == batch_id)
            .order_by(BatchItem.id)
        ).all()
        return [(item, sub) for item, sub in rows]


def _sids(j: Judge, batch_id: int) -> list[int]:
    return [sub.id for _, sub in _items(j, batch_id) if sub is not None]


def _count_finished(j: Judge, sids: list[int]) -> int:
    with j.sessions() as s:
        n = s.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.id.in_(sids), Submission.status.in_(FINISHED))
        )
        return int(n or 0)


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def test_entries_from_files() -> None:
    assert batches.entry_from_file("alice.py", b"print(1)\n") == Entry(
        "alice", "print(1)\n", "python3"
    )
    assert batches.entry_from_file("bob.CPP", b"int main(){}").language == "cpp"
    assert batches.entry_from_file("carl.cc", b"int main(){}").language == "cpp"
    assert batches.entry_from_file("dan.txt", b"x", language="python3").language == "python3"
    unknown = batches.entry_from_file("eve.xyz", b"x")
    assert (
        unknown.name == "eve"
        and unknown.source is None
        and "unknown extension" in (unknown.error or "")
    )
    latin = batches.entry_from_file("fay.py", "print('é')".encode("latin-1"))
    assert latin.error and "UTF-8" in latin.error
    big = batches.entry_from_file("gus.py", b"#" * 100, max_bytes=10)
    assert big.error and "larger" in big.error


def test_batch_goes_to_the_batch_queue_and_reports_bad_entries(judge: Judge) -> None:
    judge.add_problem({**APLUSB, "slug": "batch-ab"})
    entries = [
        Entry("alice", AB, "python3"),
        Entry("bob", AB_WRONG),  # the batch's language
        Entry("carol", "int main( {", "c"),
        Entry("dave", error="dave.xyz: unknown extension"),
        Entry("alice", AB),  # the same name again: kept, under another name
        Entry("erin", "print(1)\x00", "python3"),
        Entry("frank", AB, "cobol"),
    ]
    with judge.sessions() as s:
        batch = batches.create_batch(s, "batch-ab", entries, language="python3")
    sids = _sids(judge, batch.id)
    assert len(sids) == 4
    judge.wait(sids)
    got = [
        (i.name, s.verdict if s else None, s.queue if s else None, bool(i.error))
        for i, s in _items(judge, batch.id)
    ]
    assert got == [
        ("alice", Verdict.AC, "batch", False),
        ("bob", Verdict.WA, "batch", False),
        ("carol", Verdict.CE, "batch", False),
        ("dave", None, None, True),
        ("alice (2)", Verdict.AC, "batch", False),
        ("erin", None, None, True),
        ("frank", None, None, True),
    ]
    with judge.sessions() as s, pytest.raises(worker.UnknownProblem):
        batches.create_batch(s, "nope", entries)
    with judge.sessions() as s, pytest.raises(worker.SubmitError, match="language"):
        batches.create_batch(s, "batch-ab", entries, language="cobol")
    with judge.sessions() as s, pytest.raises(worker.SubmitError, match="at least one"):
        batches.create_batch(s, "batch-ab", [])


@pytest.fixture
def fresh_judge(
    make_judge: Callable[..., Judge], route: Callable[[Judge], None]
) -> Iterator[Judge]:
    j = make_judge()
    route(j)
    j.add_problem(APLUSB)
    yield j


def test_interactive_submissions_overtake_a_running_batch(
    fresh_judge: Judge, record_property: pytest.RecordProperty
) -> None:
    """Fairness: while 200 batch submissions grade on two worker processes, an interactive
    submission waits for at most the job in progress, not for the batch."""
    j = fresh_judge
    j.start_worker(concurrency=2)
    size = 200
    with j.sessions() as s:
        batch = batches.create_batch(s, "aplusb", [Entry(f"s{i:03}", AB, "python3")
                                                   for i in range(size)])  # fmt: skip
    sids = _sids(j, batch.id)
    _wait_for(lambda: _count_finished(j, sids) >= 10, 60, "the batch to get going")

    latencies: list[float] = []
    left: list[int] = []
    for _ in range(5):
        start = time.perf_counter()
        probe = j.submit("aplusb", "python3", AB, queue="interactive")
        sub = j.wait([probe], timeout=60)[probe]
        latencies.append(time.perf_counter() - start)
        left.append(size - _count_finished(j, sids))
        assert sub.verdict is Verdict.AC
        time.sleep(0.5)

    with j.sessions() as s:
        done = s.scalars(
            select(Submission).where(Submission.id.in_(sids), Submission.status == Status.DONE)
        ).all()
        jobs = [
            (d.finished_at - d.started_at).total_seconds()
            for d in done
            if d.finished_at and d.started_at
        ]
    job = statistics.median(jobs)
    with j.sessions() as s:
        batches.cancel_batch(s, batch.id)  # the rest is not needed: end the test early
    record_property("batch_job_median_s", round(job, 3))
    record_property("interactive_latency_max_s", round(max(latencies), 3))
    print(
        f"\nbatch job median {job * 1000:.0f} ms; interactive submit-to-verdict during the batch: "
        f"{', '.join(f'{x * 1000:.0f}' for x in latencies)} ms; batch items left: {left}"
    )
    # Behind the batch it would wait for ~(items left x job / 2 workers), many seconds; ahead of
    # it, for the rest of one job in progress plus its own grading. The median holds the tight
    # bound; a single probe may meet a noisy moment of a shared CI machine (1.41 s once, against
    # 1.40), but even that one stays far from what waiting behind the batch would cost.
    assert statistics.median(latencies) < 4 * job + 0.5, (latencies, job)
    behind = min(left) * job / 2
    assert max(latencies) < max(4 * job + 0.5, behind / 2), (latencies, job, left)
    assert min(left) > size // 4, left


def test_redis_queue_order_is_strict_priority(fresh_judge: Judge) -> None:
    """Both queues full before the worker starts: every interactive message is taken before any
    batch message (kombu's ``priority`` order; ``round_robin`` would alternate them)."""
    j = fresh_judge
    held = [j.submit("aplusb", "python3", AB, queue="batch") for _ in range(6)]
    urgent = [j.submit("aplusb", "python3", AB, queue="interactive") for _ in range(4)]
    j.start_worker(concurrency=2)
    subs = j.wait([*held, *urgent], timeout=60)
    order = [s.queue for s in sorted(subs.values(), key=lambda s: s.started_at or s.created_at)]
    assert order == ["interactive"] * 4 + ["batch"] * 6, order


def test_cancel_ends_queued_items_and_grades_nothing_new(fresh_judge: Judge) -> None:
    j = fresh_judge
    j.start_worker(concurrency=2)
    with j.sessions() as s:
        batch = batches.create_batch(
            s, "aplusb", [Entry(f"s{i:02}", AB, "python3") for i in range(40)]
        )
    sids = _sids(j, batch.id)
    _wait_for(lambda: _count_finished(j, sids) >= 3, 60, "a few graded")
    with j.sessions() as s:
        report = batches.cancel_batch(s, batch.id)
        again = batches.cancel_batch(s, batch.id)  # idempotent
    assert report.skipped >= 30 and report.restored == 0 and again.skipped == 0
    subs = j.wait(sids, timeout=60)
    with j.sessions() as s:
        cancelled_at = s.get(Batch, batch.id).cancelled_at  # type: ignore[union-attr]
    assert cancelled_at is not None
    graded = [x for x in subs.values() if x.verdict is not Verdict.SK]
    skipped = [x for x in subs.values() if x.verdict is Verdict.SK]
    assert len(graded) + len(skipped) == 40 and len(skipped) == report.skipped
    # Nothing started after the cancel: what was graded had been claimed before it.
    assert all(x.started_at is not None and x.started_at <= cancelled_at for x in graded)
    assert all(x.verdict is Verdict.AC and len(x.results) == 10 for x in graded)
    for x in skipped:
        assert x.status is Status.DONE and x.started_at is None and x.results == []
        assert x.message == f"not graded: batch {batch.id} was cancelled"
    # The messages left in Redis find nothing to claim: still nothing graded a while later.
    time.sleep(1.0)
    with j.sessions() as s:
        assert s.scalar(
            select(func.count()).select_from(Submission).where(
                Submission.id.in_(sids), Submission.verdict == Verdict.SK
            )
        ) == len(skipped)  # fmt: skip
    with j.sessions() as s, pytest.raises(batches.UnknownBatch):
        batches.cancel_batch(s, 10**6)


def _results(j: Judge, sid: int) -> list[tuple[int, Verdict]]:
    with j.sessions() as s:
        rows = s.execute(
            select(TestResult.test_index, TestResult.verdict)
            .where(TestResult.submission_id == sid)
            .order_by(TestResult.test_index)
        )
        return [(i, v) for i, v in rows]


def _history(j: Judge, sid: int) -> list[SubmissionHistory]:
    with j.sessions() as s:
        return list(
            s.scalars(
                select(SubmissionHistory)
                .where(SubmissionHistory.submission_id == sid)
                .order_by(SubmissionHistory.id)
            )
        )


REJUDGE: dict[str, Any] = {
    "slug": "rejudge-me",
    "tests": [{"input": f"{i} {i}\n", "output": f"{2 * i}\n"} for i in range(1, 4)],
}
# Right on the first tests, wrong once a number reaches 3: AC until a test with 3 appears.
AB_SMALL = "a, b = map(int, input().split())\nprint(a + b if a < 3 else 0)\n"


def test_rejudge_batch_replaces_results_and_keeps_history(judge: Judge) -> None:
    judge.add_problem({**REJUDGE, "tests": REJUDGE["tests"][:2]})
    small = judge.run("rejudge-me", "python3", AB_SMALL)
    right = judge.run("rejudge-me", "python3", AB)
    assert small.verdict is right.verdict is Verdict.AC
    judge.add_problem(REJUDGE)  # a third test: the small-only solution now fails it

    with judge.sessions() as s:
        batch, ids = batches.rejudge_batch(s, "rejudge-me")
    assert batch is not None and batch.kind == "rejudge" and sorted(ids) == [small.id, right.id]
    assert [i.name for i, _ in _items(judge, batch.id)] == [f"#{small.id}", f"#{right.id}"]
    subs = judge.wait(ids)
    assert subs[small.id].verdict is Verdict.WA and subs[right.id].verdict is Verdict.AC
    assert _results(judge, small.id) == [(1, Verdict.AC), (2, Verdict.AC), (3, Verdict.WA)]
    (before,) = _history(judge, small.id)
    assert (before.verdict, before.score, before.batch_id) == (Verdict.AC, 2, batch.id)
    assert [t["verdict"] for t in before.tests] == ["AC", "AC"]
    assert before.graded_at == small.finished_at and before.tests[0]["cpu_time"] is not None

    # Again: results are replaced, never duplicated; each grading lands in the history.
    with judge.sessions() as s:
        second, _ = batches.rejudge_batch(s, "rejudge-me")
    assert second is not None
    judge.wait(ids)
    assert _results(judge, small.id) == [(1, Verdict.AC), (2, Verdict.AC), (3, Verdict.WA)]
    assert [h.verdict for h in _history(judge, small.id)] == [Verdict.AC, Verdict.WA]
    assert [h.batch_id for h in _history(judge, right.id)] == [batch.id, second.id]
    # A single rejudge keeps history too, with no batch.
    with judge.sessions() as s:
        assert worker.rejudge(s, [right.id]) == [right.id]
    judge.wait([right.id])
    assert [h.batch_id for h in _history(judge, right.id)] == [batch.id, second.id, None]
    with judge.sessions() as s:
        judge.add_problem({**REJUDGE, "slug": "nobody-submitted"})
        assert batches.rejudge_batch(s, "nobody-submitted") == (None, [])
    with judge.sessions() as s, pytest.raises(worker.UnknownProblem):
        batches.rejudge_batch(s, "no-such-problem")


def test_cancelled_rejudge_gives_back_the_previous_grading(fresh_judge: Judge) -> None:
    j = fresh_judge
    j.add_problem({**REJUDGE, "tests": REJUDGE["tests"][:2]})
    w = j.start_worker(concurrency=2)
    graded = [j.submit("rejudge-me", "python3", src) for src in (AB_SMALL, AB_WRONG)]
    before = j.wait(graded)
    results_before = {sid: _results(j, sid) for sid in graded}
    w.stop()  # no worker: the rejudge stays queued until cancelled
    j.add_problem(REJUDGE)
    with j.sessions() as s:
        batch, ids = batches.rejudge_batch(s, "rejudge-me")
    assert batch is not None and sorted(ids) == sorted(graded)
    with j.sessions() as s:
        assert all(s.get(Submission, sid).status is Status.QUEUED for sid in ids)  # type: ignore[union-attr]
        report = batches.cancel_batch(s, batch.id)
    assert report.restored == 2 and report.skipped == 0
    with j.sessions() as s:
        for sid in graded:
            now = s.get(Submission, sid)
            assert now is not None and now.status is Status.DONE
            old = before[sid]
            assert (now.verdict, now.score, now.time, now.memory, now.finished_at) == (
                old.verdict, old.score, old.time, old.memory, old.finished_at
            )  # fmt: skip
            assert _results(j, sid) == results_before[sid]
    # The restored grading is the current one again, not history.
    assert _history(j, graded[0]) == [] and _history(j, graded[1]) == []
    # The messages the rejudge sent find nothing to grade once a worker is back.
    j.start_worker(concurrency=1)
    time.sleep(2)
    _wait_for(lambda: j.logs().count("nothing to claim") >= 2, 30, "the stale messages")
    for sid in graded:
        assert j.wait([sid])[sid].verdict is before[sid].verdict
        assert _results(j, sid) == results_before[sid]
