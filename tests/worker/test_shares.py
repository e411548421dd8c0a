"""Per-user shares of the interactive queue (worker.shares), on real SQLite and PostgreSQL:
which submissions get a wake-up at once, which are held, and who releases them.

The wake-ups are recorded instead of sent to a broker here; tests/web/hostile/test_fairness.py
runs the same path through a real web server, Redis and worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import store
import worker.celery_app
from store import Status, Submission, User, utcnow
from tests.store.plans import insert_history, plans_of, reads_only_unfinished
from worker import shares
from worker.config import Settings
from worker.submit import submit
from worker.sweeper import sweep

SETTINGS = Settings(
    redis_url="redis://unused",
    lease_seconds=5,
    max_attempts=3,
    sweep_interval=1,
    requeue_after=60,
    retry_delay=0.1,
    visibility_timeout=3600,
)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """The wake-ups submit() sends, in order."""
    record: list[tuple[int, str]] = []
    monkeypatch.setattr(worker.celery_app, "enqueue", lambda sid, q, countdown=0.0:
                        record.append((sid, q)))  # fmt: skip
    monkeypatch.setenv("JUDGE_USER_SHARE", "2")
    return record


def _users(sessions: sessionmaker[Session], *names: str) -> list[int]:
    with sessions() as s:
        store.import_problem(s, {"slug": "p", "tests": [{"input": "", "output": ""}]})
        users = [User(name=name) for name in names]
        s.add_all(users)
        s.commit()
        ids = [u.id for u in users]
    return ids


def _held(sessions: sessionmaker[Session]) -> set[int]:
    with sessions() as s:
        return set(
            s.scalars(
                select(Submission.id).where(
                    Submission.status == Status.QUEUED, Submission.enqueued_at.is_(None)
                )
            )
        )


def _finish(sessions: sessionmaker[Session], sid: int) -> None:
    with sessions() as s:
        s.execute(update(Submission).where(Submission.id == sid)
                  .values(status=Status.DONE, finished_at=utcnow()))  # fmt: skip
        s.commit()


def test_a_users_submissions_beyond_the_share_wait_in_the_database(
    sessions: sessionmaker[Session], sent: list[tuple[int, str]]
) -> None:
    flooder, other = _users(sessions, "flooder", "other")
    with sessions() as s:
        mine = [submit(s, "p", "python3", "print(1)", user=flooder) for _ in range(5)]
        theirs = submit(s, "p", "python3", "print(1)", user=other)
        anonymous = submit(s, "p", "python3", "print(1)")  # library callers: never held
        batch = submit(s, "p", "python3", "print(1)", user=flooder, queue="batch")
    # The flooder's first two are in the broker; the other user's one goes straight behind
    # them, not behind the flood.
    assert sent == [(mine[0], "interactive"), (mine[1], "interactive"),
                    (theirs, "interactive"), (anonymous, "interactive"),
                    (batch, "batch")]  # fmt: skip
    assert _held(sessions) == set(mine[2:])
    # One ends: exactly its successor is released, once however often it is asked.
    _finish(sessions, mine[0])
    with sessions.begin() as s:
        assert shares.release_after(s, mine[0]) == [mine[2]]
    with sessions.begin() as s:
        assert shares.release_after(s, mine[0]) == []
        assert shares.release_all(s) == []
    assert _held(sessions) == set(mine[3:])
    # Grading counts against the share like waiting does: nothing more while two are out.
    with sessions() as s:
        s.execute(update(Submission).where(Submission.id == mine[1])
                  .values(status=Status.RUNNING))  # fmt: skip
        s.commit()
    with sessions.begin() as s:
        assert shares.release_user(s, flooder) == []
    # Another user's end releases nothing of the flooder's.
    _finish(sessions, theirs)
    with sessions.begin() as s:
        assert shares.release_after(s, theirs) == []
    # A batch item's end is not an interactive turn either.
    _finish(sessions, batch)
    with sessions.begin() as s:
        assert shares.release_after(s, batch) == []


def test_the_sweeper_releases_what_no_finish_did_and_never_resends_a_held_row(
    sessions: sessionmaker[Session], sent: list[tuple[int, str]]
) -> None:
    (flooder,) = _users(sessions, "flooder")
    with sessions() as s:
        mine = [submit(s, "p", "python3", "print(1)", user=flooder) for _ in range(4)]
    assert _held(sessions) == set(mine[2:])
    # Two end while their worker cannot release (it crashed right after writing the verdict).
    _finish(sessions, mine[0])
    _finish(sessions, mine[1])
    swept: list[tuple[int, str, float]] = []
    # Long after: a held row is never taken for a lost wake-up (it has no enqueued_at), but
    # it is released now that its turn has come; in age order.
    later = utcnow() + timedelta(seconds=3600)
    report = sweep(sessions, lambda *a: swept.append(a), SETTINGS, now=later)
    assert (report.resent, report.released) == (0, 2)
    assert swept == [(mine[2], "interactive", 0.0), (mine[3], "interactive", 0.0)]
    assert _held(sessions) == set()
    again = sweep(sessions, lambda *a: swept.append(a), SETTINGS, now=later)
    assert again.released == 0 and len(swept) == 2


def test_a_grading_that_ends_releases_its_users_next(
    sessions: sessionmaker[Session], sent: list[tuple[int, str]]
) -> None:
    """Through the pipeline: the finishing write hands back the queue and user, and the
    user's next held submission gets its wake-up (another user's and batch work do not)."""
    from worker import pipeline
    from worker.execution import sandbox_runner

    flooder, other = _users(sessions, "flooder", "other")
    with sessions() as s:
        mine = [submit(s, "p", "python3", "print(1)", user=flooder) for _ in range(3)]
        theirs = submit(s, "p", "python3", "print(1)", user=other)
        batch = submit(s, "p", "python3", "print(1)", user=flooder, queue="batch")
    assert _held(sessions) == {mine[2]}
    woken: list[tuple[int, str, float]] = []

    def grade(sid: int) -> str:
        return pipeline.grade(sessions, sid, settings=SETTINGS, owner="t",
                              enqueue=lambda *a: woken.append(a), run=sandbox_runner)  # fmt: skip

    assert [grade(theirs), grade(batch)] == ["done", "done"]
    assert woken == [] and _held(sessions) == {mine[2]}
    assert grade(mine[0]) == "done"
    assert woken == [(mine[2], "interactive", 0.0)] and _held(sessions) == set()


def test_share_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_USER_SHARE", "3")
    assert shares.share() == 3
    monkeypatch.setenv("JUDGE_USER_SHARE", "0")
    assert shares.share() >= 1  # one per CPU
    monkeypatch.setenv("JUDGE_USER_SHARE", "-1")
    with pytest.raises(store.env.ConfigError, match="JUDGE_USER_SHARE"):
        shares.share()



@pytest.mark.parametrize("scope", ["user", "after", "all"])
def test_releasing_reads_only_the_unfinished_rows_whatever_the_history(
    sessions: sessionmaker[Session], scope: shares.Scope
) -> None:
    # A user with a long history: at every finish the release ranked all of it (17 ms per
    # finish at 100,000 rows on SQLite). The partial index holds only the rows in flight.
    (uid,) = _users(sessions, "veteran")
    with sessions() as s:
        last = insert_history(s, uid, finished=2000, queued=3)
        params = {"b_user": uid, "b_submission": last}
        (plan,) = plans_of(s, lambda: shares._release(s, scope, params, 2))
        assert reads_only_unfinished(plan), plan
    with sessions() as s:
        released = shares._release(s, scope, params, 2)
        s.commit()
    assert len(released) == 2  # the two oldest held; the third waits for a finish


def test_the_web_counts_a_users_unfinished_submissions_without_reading_the_history(
    sessions: sessionmaker[Session],
) -> None:
    # The other half of the shares: every POST counts the user's unfinished submissions
    # (web.fairness), which read the whole history before (15 ms at 100,000 on SQLite).
    from web.fairness import Fairness

    (uid,) = _users(sessions, "veteran")
    with sessions() as s:
        insert_history(s, uid, finished=2000, queued=3)
        (plan,) = plans_of(s, lambda: Fairness.unfinished_submissions(s, uid))
        assert reads_only_unfinished(plan), plan
        assert Fairness.unfinished_submissions(s, uid) == 3
