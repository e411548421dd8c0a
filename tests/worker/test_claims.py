"""The lease protocol against real SQLite and PostgreSQL, including concurrent processes."""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import store
from store import Status, Submission, TestResult, Verdict, utcnow
from worker import claims, create_submission

PROBLEM = {"slug": "p", "tests": [{"input": "1", "output": "1"}, {"input": "2", "output": "2"}]}


def _new(sessions: sessionmaker[Session], n: int = 1) -> list[int]:
    with sessions() as s:
        if s.scalar(select(store.Problem.id)) is None:
            store.import_problem(s, PROBLEM)
        ids = [create_submission(s, "p", "python3", "print(1)").id for _ in range(n)]
        s.commit()
    return ids


def _claim(
    sessions: sessionmaker[Session], sid: int, owner: str = "a", **kw: object
) -> claims.Claim | None:
    return claims.claim(sessions, sid, owner=owner, lease_seconds=30, max_attempts=3, **kw)  # type: ignore[arg-type]


def _row(index: int, verdict: Verdict = Verdict.AC) -> dict[str, object]:
    return {"test_index": index, "verdict": verdict, "points": 1.0, "cpu_time": 0.1}


def test_second_claim_finds_nothing(sessions: sessionmaker[Session]) -> None:
    (sid,) = _new(sessions)
    first = _claim(sessions, sid)
    assert first is not None and first.attempt == 1
    assert _claim(sessions, sid, owner="b") is None
    with sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None and (sub.status, sub.attempts, sub.lease_owner) == (
            Status.COMPILING,
            1,
            "a",
        )


def test_expired_lease_is_taken_over_and_old_owner_fenced(sessions: sessionmaker[Session]) -> None:
    (sid,) = _new(sessions)
    old = _claim(sessions, sid)
    assert old is not None
    claims.record_results(sessions, old, [_row(1)], 30)
    later = utcnow() + timedelta(seconds=31)
    new = _claim(sessions, sid, owner="b", now=later)
    assert new is not None and new.attempt == 2
    # The new attempt starts clean, and the old worker can no longer write anything.
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(TestResult)) == 0
    with pytest.raises(claims.LeaseLost):
        claims.record_results(sessions, old, [_row(1, Verdict.WA)], 30)
    with pytest.raises(claims.LeaseLost):
        claims.renew(sessions, old, 30)
    with pytest.raises(claims.LeaseLost):
        claims.finish(sessions, old, {"verdict": Verdict.WA})
    claims.finish(sessions, new, {"verdict": Verdict.AC})
    with sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None and (sub.status, sub.verdict, sub.lease_until) == (
            Status.DONE,
            Verdict.AC,
            None,
        )


def _state(sessions: sessionmaker[Session], sid: int) -> tuple[object, ...]:
    with sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        n = s.scalar(select(func.count()).where(TestResult.submission_id == sid))
        return (sub.status, sub.attempts, sub.lease_owner, sub.verdict, n)


def test_expired_lease_refuses_every_write_before_any_sweep(
    sessions: sessionmaker[Session],
) -> None:
    """Issue 15 finding 2: a worker that wakes after its lease expired, when no sweeper has
    run and nobody else claimed, must still write nothing: the lease is the authority."""
    (sid,) = _new(sessions)
    c = claims.claim(sessions, sid, owner="a", lease_seconds=0.3, max_attempts=3)
    assert c is not None
    claims.record_results(sessions, c, [_row(1)], 0.3)  # in time: written
    before = _state(sessions, sid)
    assert before == (Status.COMPILING, 1, "a", None, 1)
    time.sleep(0.5)  # "SIGSTOPped" past the lease
    with pytest.raises(claims.LeaseLost):
        claims.record_results(sessions, c, [_row(2, Verdict.WA)], 30)
    with pytest.raises(claims.LeaseLost):
        claims.renew(sessions, c, 30)
    with pytest.raises(claims.LeaseLost):
        claims.finish(sessions, c, {"verdict": Verdict.WA}, rows=[_row(2, Verdict.WA)])
    assert claims.fail(sessions, c, "late") is False
    assert claims.release(sessions, c, "late") is False
    assert claims.resume(sessions, c, owner="a", lease_seconds=30) is None
    assert _state(sessions, sid) == before, "the stale attempt changed nothing"
    # Whoever comes next takes it over as a new attempt, from a clean slate.
    new = _claim(sessions, sid, owner="b")
    assert new is not None and new.attempt == 2
    assert _state(sessions, sid) == (Status.COMPILING, 2, "b", None, 0)


def test_resume_takes_back_a_held_claim_under_the_same_attempt(
    sessions: sessionmaker[Session],
) -> None:
    (sid,) = _new(sessions)
    held = _claim(sessions, sid, owner="a")
    assert held is not None
    claims.record_results(sessions, held, [_row(1, Verdict.WA)], 30)
    back = claims.resume(sessions, held, owner="b", lease_seconds=30)
    assert back == claims.Claim(sid, 1, "b")
    assert _state(sessions, sid) == (Status.COMPILING, 1, "b", None, 0)
    # The held claim is now the resumed one's: the old owner is fenced off.
    with pytest.raises(claims.LeaseLost):
        claims.renew(sessions, held, 30)
    claims.finish(sessions, back, {"verdict": Verdict.AC}, rows=[_row(1), _row(2)])
    assert _state(sessions, sid) == (Status.DONE, 1, "b", Verdict.AC, 2)
    assert claims.resume(sessions, back, owner="c", lease_seconds=30) is None


def test_a_new_attempt_forgets_the_last_ones_internal_error(
    sessions: sessionmaker[Session],
) -> None:
    # The text of an internal error can quote a checker's or interactor's stderr (and the test
    # it read): it stays the admin's, and must not ride along into the next attempt.
    (sid,) = _new(sessions)
    first = _claim(sessions, sid)
    assert first is not None
    assert claims.release(sessions, first, "interactor failed: n=777777777")
    with sessions() as s:
        assert s.get_one(Submission, sid).message == "interactor failed: n=777777777"
    second = _claim(sessions, sid)
    assert second is not None and second.attempt == 2
    with sessions() as s:
        sub = s.get_one(Submission, sid)
        assert (sub.status, sub.message) == (Status.COMPILING, None)


def test_results_are_upserted_not_duplicated(sessions: sessionmaker[Session]) -> None:
    (sid,) = _new(sessions)
    c = _claim(sessions, sid)
    assert c is not None
    claims.record_results(sessions, c, [_row(1, Verdict.WA), _row(2)], 30)
    claims.record_results(sessions, c, [_row(1, Verdict.AC)], 30)
    with sessions() as s:
        rows = s.execute(
            select(TestResult.test_index, TestResult.verdict).order_by(TestResult.test_index)
        ).all()
    assert [tuple(r) for r in rows] == [(1, Verdict.AC), (2, Verdict.AC)]


def test_attempt_cap_blocks_claims(sessions: sessionmaker[Session]) -> None:
    (sid,) = _new(sessions)
    now = utcnow()
    for attempt in (1, 2, 3):
        c = _claim(sessions, sid, owner=f"w{attempt}", now=now)
        assert c is not None and c.attempt == attempt
        now += timedelta(seconds=31)
    assert _claim(sessions, sid, owner="w4", now=now) is None


def _claim_all(
    url: str, ids: list[int], owner: str, start: Any, out: multiprocessing.Queue[list[int]]
) -> None:
    engine = store.make_engine(url)
    sessions = store.session_factory(engine)
    with sessions() as s:  # connect before the race, not during it
        s.execute(select(1))
    start.wait(60)  # all processes go at once, on the same rows in the same order
    got = []
    for sid in ids:
        if _claim(sessions, sid, owner=owner) is not None:
            got.append(sid)
        # A real worker grades between claims; without a pause SQLite's busy handler (which
        # sleeps 1-100 ms between retries) lets one process win every lock in a row.
        time.sleep(0.001)
    out.put(got)
    engine.dispose()


def test_concurrent_processes_claim_each_submission_once(
    sessions: sessionmaker[Session], db_url: str
) -> None:
    # Exactly-once must hold in every round; that the processes really competed is only
    # likely in one round on a loaded 2-core machine (one process can be scheduled through
    # all 100 claims before the others run), so up to five rounds get the chance.
    competed = False
    shares: list[list[int]] = []
    for _round in range(5):
        ids = _new(sessions, 100)
        ctx = multiprocessing.get_context("spawn")
        out: multiprocessing.Queue[list[int]] = ctx.Queue()
        start = ctx.Barrier(4)
        procs = [
            ctx.Process(target=_claim_all, args=(db_url, ids, f"p{i}", start, out))
            for i in range(4)
        ]
        for p in procs:
            p.start()
        per_process = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(30)
        claimed = sorted(sid for got in per_process for sid in got)
        assert claimed == ids, "every submission claimed exactly once"
        shares.append([len(got) for got in per_process])
        if sum(1 for got in per_process if got) >= 2:
            competed = True
            break
    assert competed, f"the processes never competed in five rounds: claims per process {shares}"
    with sessions() as s:
        attempts = s.scalars(select(Submission.attempts)).all()
    assert set(attempts) == {1}
