"""DESIGN 6 with real processes: duplicates, SIGKILLed workers, the sweeper, the attempt cap."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from worker_test_kit import Judge
from worker_test_programs import APLUSB, APLUSB_SOURCES, SLOW_AC

from store import Problem, Status, Submission, TestResult, Verdict, utcnow


@pytest.fixture(scope="module", autouse=True)
def problems(judge: Judge) -> None:
    judge.add_problem(APLUSB)


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


def _results(j: Judge, sid: int) -> int:
    with j.sessions() as s:
        n = s.scalar(select(func.count()).where(TestResult.submission_id == sid))
        return int(n or 0)


def test_duplicate_delivery_grades_once(judge: Judge) -> None:
    sid = judge.create("aplusb", "python3", APLUSB_SOURCES["python3"])
    before = judge.logs().count(f"submission {sid}: nothing to claim")
    for _ in range(3):
        judge.send(sid)
    sub = judge.wait([sid])[sid]
    assert (sub.verdict, sub.attempts) == (Verdict.AC, 1)
    assert [r.test_index for r in sub.results] == list(range(1, 11))
    # The two extra deliveries were consumed and found nothing to claim.
    _wait_for(
        lambda: judge.logs().count(f"submission {sid}: nothing to claim") - before >= 2,
        20,
        "duplicates to be consumed",
    )


def _assert_graded_once_more(j: Judge, sid: int) -> None:
    sub = j.wait([sid], timeout=60)[sid]
    seen = (sub.status, sub.verdict, sub.score, sub.attempts, sub.message)
    assert seen == (Status.DONE, Verdict.AC, 10, 2, None), f"{seen}\n{j.logs()}"
    indexes = [r.test_index for r in sub.results]
    assert indexes == list(range(1, 11)), "every test exactly once"


def test_whole_worker_sigkilled_mid_grading(make_judge: Callable[..., Judge]) -> None:
    j = make_judge()
    j.add_problem({**APLUSB, "slug": "slow"})
    first = j.start_worker(concurrency=1)
    sid = j.submit("slow", "python3", SLOW_AC)
    _wait_for(lambda: _results(j, sid) >= 2, 30, "grading to be under way")
    first.kill()
    done = _results(j, sid)
    assert 2 <= done < 10, f"killed in the middle, not after {done} tests"
    # The message died with the worker (unacknowledged until the visibility timeout); the
    # lease expires and the new worker's sweeper hands the submission to a new attempt.
    j.start_worker(concurrency=1)
    _assert_graded_once_more(j, sid)


def test_pool_process_sigkilled_mid_grading(make_judge: Callable[..., Judge]) -> None:
    j = make_judge()
    j.add_problem({**APLUSB, "slug": "slow"})
    w = j.start_worker(concurrency=1)
    sid = j.submit("slow", "python3", SLOW_AC)
    _wait_for(lambda: _results(j, sid) >= 2, 30, "grading to be under way")
    (child,) = w.children()
    import os
    import signal

    os.kill(child, signal.SIGKILL)  # the pool process only; the main process lives on
    _assert_graded_once_more(j, sid)
    assert "WorkerLostError" in j.logs() or "exited with 'signal 9" in j.logs()


def test_sweeper_requeues_expired_lease_and_caps_attempts(judge: Judge) -> None:
    # Two submissions whose workers "died" long ago: one with an attempt left, one without.
    alive = judge.create("aplusb", "python3", APLUSB_SOURCES["python3"])
    capped = judge.create("aplusb", "python3", APLUSB_SOURCES["python3"])
    past = utcnow() - timedelta(minutes=5)
    with judge.sessions.begin() as s:
        for sid, attempts in ((alive, 2), (capped, 3)):
            s.execute(
                update(Submission)
                .where(Submission.id == sid)
                .values(status=Status.RUNNING, attempts=attempts, lease_until=past, lease_owner="x")
            )
    subs = judge.wait([alive, capped], timeout=30)
    assert (subs[alive].status, subs[alive].verdict, subs[alive].attempts) == (
        Status.DONE,
        Verdict.AC,
        3,
    )
    assert (subs[capped].status, subs[capped].verdict) == (Status.ERROR, Verdict.IE)
    assert subs[capped].message and "gave up after 3 attempts" in subs[capped].message


def test_internal_error_is_retried_then_ends_as_ie(judge: Judge) -> None:
    # A row the sandbox refuses (2**62 bytes: validation now stops it at 1 TiB, so it is
    # written behind validation's back, as an older version could have stored it): an
    # internal error on every attempt, never the submitter's fault.
    judge.add_problem({**APLUSB, "slug": "huge"})
    with judge.sessions.begin() as s:
        s.execute(update(Problem).where(Problem.slug == "huge").values(memory_limit=1 << 62))
    sub = judge.run("huge", "python3", APLUSB_SOURCES["python3"], timeout=60)
    assert (sub.status, sub.verdict, sub.attempts) == (Status.ERROR, Verdict.IE, 3)
    assert sub.message and "gave up after 3 attempts" in sub.message
    assert "sandbox refused the run" in sub.message
    assert sub.results == []


def test_lost_wake_up_message_is_resent(judge: Judge) -> None:
    # Committed but never enqueued (the broker was down at submit time).
    sid = judge.create("aplusb", "python3", APLUSB_SOURCES["python3"])
    with judge.sessions.begin() as s:
        s.execute(
            update(Submission)
            .where(Submission.id == sid)
            .values(enqueued_at=utcnow() - timedelta(hours=1))
        )
    sub = judge.wait([sid], timeout=30)[sid]
    assert (sub.verdict, sub.attempts) == (Verdict.AC, 1)


def test_interactive_queue_is_served_first(make_judge: Callable[..., Judge]) -> None:
    j = make_judge()
    j.add_problem(APLUSB)
    src = APLUSB_SOURCES["python3"]
    batch = [j.submit("aplusb", "python3", src, queue="batch") for _ in range(4)]
    urgent = j.submit("aplusb", "python3", src, queue="interactive")
    j.start_worker(concurrency=1)
    subs = j.wait([*batch, urgent], timeout=60)
    order = sorted(subs.values(), key=lambda s: s.started_at or utcnow())
    assert order[0].id == urgent, [s.queue for s in order]


def test_grading_with_postgresql(make_judge: Callable[..., Judge], postgres: object) -> None:
    url = postgres.create_database("worker_e2e")  # type: ignore[attr-defined]
    j = make_judge(url)
    j.add_problem(APLUSB)
    j.start_worker(concurrency=2)
    sids = [j.submit("aplusb", "python3", APLUSB_SOURCES["python3"]) for _ in range(3)]
    sids.append(j.submit("aplusb", "c", APLUSB_SOURCES["c"]))
    subs = j.wait(sids, timeout=60)
    assert all(s.verdict is Verdict.AC and len(s.results) == 10 for s in subs.values())


def test_a_stopped_worker_leaves_no_warm_box(make_judge: Callable[..., Judge]) -> None:
    """Pool processes end with os._exit (no atexit): the boxes their sandbox pool keeps
    prepared must still be torn down when the worker stops, cgroups included."""
    import os

    from sandbox import cgroups

    j = make_judge()
    j.add_problem(APLUSB)
    w = j.start_worker(concurrency=2)
    sid = j.submit("aplusb", "python3", APLUSB_SOURCES["python3"])
    assert j.wait([sid], timeout=60)[sid].verdict == Verdict.AC
    pool = w.children()

    def boxes_of_pool() -> list[str]:
        return [d for d in cgroups.backend().box_dirs()
                if any(os.path.basename(d).startswith(f"box-{pid}-") for pid in pool)]

    assert boxes_of_pool(), "the pool process that graded keeps warm boxes"
    w.stop()
    assert boxes_of_pool() == []
