"""Issue 15, findings 2 and 4, with real workers: a late writer writes nothing, and no
wake-up is lost when the database fails or a message goes missing."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import select
from worker_test_kit import Judge
from worker_test_programs import APLUSB, APLUSB_SOURCES, SLOW_AC

from store import Status, Submission, TestResult, Verdict, utcnow
from worker.config import Settings
from worker.sweeper import sweep

WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
SLOW = {**APLUSB, "slug": "slow"}


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def _row(j: Judge, sid: int) -> Submission:
    with j.sessions() as s:
        sub: Submission | None = s.get(Submission, sid)
        assert sub is not None
        return sub


def _results(j: Judge, sid: int) -> list[tuple[Any, ...]]:
    with j.sessions() as s:
        rows = s.execute(
            select(TestResult.id, TestResult.test_index, TestResult.verdict, TestResult.cpu_time)
            .where(TestResult.submission_id == sid)
            .order_by(TestResult.test_index)
        ).all()
        return [tuple(r) for r in rows]


def _grader(j: Judge, sid: int) -> tuple[Any, int]:
    """The worker and pool process holding the submission's lease (owner is host:pid)."""
    owner = _row(j, sid).lease_owner
    assert owner, "claimed"
    pid = int(owner.rsplit(":", 1)[1])
    for w in j.workers:
        if pid in w.children():
            return w, pid  # one of ours: safe to stop by PID
    raise AssertionError(f"lease owner {owner} is not a pool process of this test's workers")


def _sqlite_path(j: Judge) -> str:
    url: str = j.db_url
    return url.removeprefix("sqlite:///")


def _stop_outside_a_transaction(pid: int, db_path: str) -> None:
    """SIGSTOP ``pid`` at a moment it holds no SQLite write lock: a process stopped inside
    its transaction would block every other writer, which is another fault than a late
    writer's (and one SQLite's busy timeout is for)."""
    for _ in range(100):
        os.kill(pid, signal.SIGSTOP)
        conn = sqlite3.connect(db_path, timeout=0.05)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
            return
        except sqlite3.OperationalError:
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.03)
        finally:
            conn.close()
    raise AssertionError("the grading process never left its transaction")


@contextlib.contextmanager
def _stopped(pid: int, db_path: str) -> Iterator[None]:
    _stop_outside_a_transaction(pid, db_path)
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)  # never leave our own process stopped


def _lease_lost(w: Any, sid: int) -> bool:
    return f"submission {sid}: lease lost by attempt 1" in w.log.read_text(errors="replace")


def test_worker_stopped_past_its_lease_writes_nothing_after_another_grades(
    make_judge: Callable[..., Judge],
) -> None:
    """Stopped past the lease; a sweeper re-queues, another worker grades; after SIGCONT the
    stale process is refused and the one set of rows stays the second attempt's."""
    j = make_judge()  # leases of 2 s + the test's wall limit, sweeps every 0.5 s (kit)
    j.add_problem(SLOW)
    j.start_worker(concurrency=1)
    j.start_worker(concurrency=1)
    sid = j.submit("slow", "python3", SLOW_AC)
    _wait_for(lambda: len(_results(j, sid)) >= 2, 30, "grading under way")
    stale, pid = _grader(j, sid)
    with _stopped(pid, _sqlite_path(j)):
        at_stop = _results(j, sid)
        assert 2 <= len(at_stop) < 10, "stopped in the middle"
        sub = j.wait([sid], timeout=60)[sid]
        assert (sub.status, sub.verdict, sub.attempts) == (Status.DONE, Verdict.AC, 2), j.logs()
        graded = _results(j, sid)
        assert [r[1] for r in graded] == list(range(1, 11))
    # SIGCONT: the stale attempt finishes its test, tries to write, and is refused.
    _wait_for(lambda: _lease_lost(stale, sid), 30, "the stale attempt to give up")
    time.sleep(0.5)
    after = _row(j, sid)
    assert (after.status, after.verdict, after.attempts, after.finished_at) == (
        Status.DONE,
        Verdict.AC,
        2,
        sub.finished_at,
    )
    assert _results(j, sid) == graded, "exactly one set of rows: the second attempt's"


def test_worker_woken_after_its_lease_before_any_sweep_writes_nothing(
    make_judge: Callable[..., Judge],
) -> None:
    """The narrow case of finding 2: nobody has taken the submission over yet when the stale
    process wakes. Its lease is gone all the same, so it must not finish the grading."""
    # No sweeper in the workers: this test decides when the sweep happens.
    j = make_judge(JUDGE_SWEEP_INTERVAL="3600")
    j.add_problem(SLOW)
    stale = j.start_worker(concurrency=1)
    sid = j.submit("slow", "python3", SLOW_AC)
    _wait_for(lambda: len(_results(j, sid)) >= 2, 30, "grading under way")
    _, pid = _grader(j, sid)
    with _stopped(pid, _sqlite_path(j)):
        at_stop = _results(j, sid)
        lease_until = _row(j, sid).lease_until
        assert lease_until is not None
        _wait_for(lambda: utcnow() > lease_until, 30, "the lease to expire")
    _wait_for(lambda: _lease_lost(stale, sid), 30, "the stale attempt to give up")
    row = _row(j, sid)
    assert (row.status, row.attempts, row.verdict) == (Status.RUNNING, 1, None), stale.log
    assert _results(j, sid) == at_stop, "nothing written after the lease expired"
    # Now the sweeper hands it on, and the next attempt grades it.
    settings = Settings("unused", 2, 3, 3600, 600, 0.2, 3600)
    report = sweep(j.sessions, lambda sid_, queue, _: j.send(sid_, queue), settings)
    assert report.requeued == 1
    sub = j.wait([sid], timeout=60)[sid]
    assert (sub.status, sub.verdict, sub.attempts) == (Status.DONE, Verdict.AC, 2)
    assert [r.test_index for r in sub.results] == list(range(1, 11))


def _graded_once(j: Judge, sids: Sequence[int], expected: dict[int, Verdict]) -> None:
    subs = j.wait(sids, timeout=5)
    logs = j.logs()
    for sid, sub in subs.items():
        assert (sub.status, sub.verdict) == (Status.DONE, expected[sid]), (sid, sub.message)
        assert [r.test_index for r in sub.results] == list(range(1, 11)), sid
        assert logs.count(f"submission {sid}: done\n") <= 1, f"{sid} graded twice"


def _full_logs(j: Judge) -> str:
    return "\n".join(w.log.read_text(errors="replace") for w in j.workers)


def test_postgresql_stopped_while_claiming(
    make_judge: Callable[..., Judge], own_postgres: Any
) -> None:
    """Finding 4: claims and releases that fail because the database is down are retried,
    never acknowledged away. The sweeper's early re-send is off (JUDGE_RESEND_AFTER=600) so
    only the task retries can bring the submissions back within the 30 s."""
    url = own_postgres.create_database("faults")
    j = make_judge(url, JUDGE_RESEND_AFTER="600", JUDGE_RETRY_DELAY="0.5")
    j.add_problem(APLUSB)
    j.start_worker(concurrency=1)
    j.start_worker(concurrency=1)
    good, bad = APLUSB_SOURCES["python3"], WRONG
    expected = {}
    for i in range(20):
        sid = j.create("aplusb", "python3", bad if i % 4 == 3 else good)
        expected[sid] = Verdict.WA if i % 4 == 3 else Verdict.AC
    for sid in expected:
        j.send(sid)
    sids = list(expected)
    _wait_for(lambda: _row(j, sids[1]).status != Status.QUEUED, 30, "claims under way")
    j.engine.dispose()  # the test's own connections die with the server anyway
    own_postgres.halt()
    time.sleep(5)
    own_postgres.restart()
    back = time.monotonic()
    subs = j.wait(sids, timeout=30)
    recovered = time.monotonic() - back
    print(f"\nPostgreSQL outage: all {len(sids)} graded {recovered:.1f} s after it came back")
    logs = _full_logs(j)
    assert "trying again in" in logs, "the outage did hit claims or releases"
    _graded_once(j, sids, expected)
    assert all(s.attempts <= 2 for s in subs.values())


def test_duplicate_and_resent_wake_ups_grade_once(make_judge: Callable[..., Judge]) -> None:
    """Duplicates are harmless (the claim), and the sweeper re-sends only what is lost: a
    queued row with no message is sent again within seconds, while rows whose messages wait
    behind a backlog are left alone."""
    j = make_judge(JUDGE_RESEND_AFTER="2")
    j.add_problem(APLUSB)
    j.add_problem(SLOW)
    # A backlog longer than JUDGE_RESEND_AFTER on one worker process: every message is live
    # (queued in Redis, or held by the worker) for the whole wait, so none is re-sent.
    backlog = [j.submit("slow", "python3", SLOW_AC) for _ in range(3)]
    # The same wake-up three times.
    dup = j.create("aplusb", "python3", APLUSB_SOURCES["python3"])
    for _ in range(3):
        j.send(dup)
    # Lost wake-ups: committed, never sent.
    lost = [j.create("aplusb", "python3", APLUSB_SOURCES["python3"]) for _ in range(2)]
    started = time.monotonic()
    j.start_worker(concurrency=1)
    subs = j.wait([*backlog, dup, *lost], timeout=60)
    took = time.monotonic() - started
    assert took > 4, f"the backlog outlasted JUDGE_RESEND_AFTER twice ({took:.1f} s)"
    logs = _full_logs(j)
    for sid in [*backlog, dup, *lost]:
        assert (subs[sid].verdict, subs[sid].attempts) == (Verdict.AC, 1), sid
        assert [r.test_index for r in subs[sid].results] == list(range(1, 11))
        assert logs.count(f"submission {sid}: done\n") == 1, sid
    _wait_for(
        lambda: _full_logs(j).count(f"submission {dup}: nothing to claim") >= 2,
        20,
        "the duplicates to be consumed",
    )
    # Only the two lost rows were re-sent: no duplicate for the backlog's live messages.
    resent = [line for line in _full_logs(j).splitlines() if "sweeper:" in line]
    assert resent and all("resent 1" in x or "resent 2" in x for x in resent), resent
    counts = [int(re.search(r"resent (\d+)", x).group(1)) for x in resent]  # type: ignore[union-attr]
    assert sum(counts) == len(lost), resent
    for sid in backlog:
        assert f"submission {sid}: nothing to claim" not in _full_logs(j), sid
