"""One sweeper pass on a real database: requeue, cap, resend; and two sweepers racing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

import store
from store import Status, Submission, Verdict, utcnow
from worker import create_submission
from worker.config import Settings
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


def _submissions(sessions: sessionmaker[Session], states: list[dict[str, object]]) -> list[int]:
    with sessions() as s:
        store.import_problem(s, {"slug": "p", "tests": [{"input": "", "output": ""}]})
        ids = [create_submission(s, "p", "python3", "", queue="batch").id for _ in states]
        s.flush()
        for sid, values in zip(ids, states, strict=True):
            s.execute(update(Submission).where(Submission.id == sid).values(**values))
        s.commit()
    return ids


def test_sweep_pass(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    old, fresh = now - timedelta(seconds=10), now + timedelta(seconds=10)
    ids = _submissions(
        sessions,
        [
            {"status": Status.RUNNING, "attempts": 1, "lease_until": old},  # requeue
            {"status": Status.COMPILING, "attempts": 3, "lease_until": old},  # cap: IE
            {"status": Status.RUNNING, "attempts": 1, "lease_until": fresh},  # alive: leave
            {"status": Status.QUEUED, "enqueued_at": now - timedelta(seconds=120)},  # resend
            {"status": Status.QUEUED, "enqueued_at": now},  # just queued: leave
            {"status": Status.DONE, "attempts": 1, "lease_until": None},  # done: leave
        ],
    )
    sent: list[tuple[int, str, float]] = []
    report = sweep(sessions, lambda *a: sent.append(a), SETTINGS, now=now)
    assert (report.requeued, report.failed, report.resent) == (1, 1, 1)
    assert sorted(sent) == sorted([(ids[0], "batch", 0.0), (ids[3], "batch", 0.0)])
    with sessions() as s:
        rows = {sid: s.get(Submission, sid) for sid in ids}
    status = {sid: (r.status if r else None) for sid, r in rows.items()}
    assert status == {
        ids[0]: Status.QUEUED,
        ids[1]: Status.ERROR,
        ids[2]: Status.RUNNING,
        ids[3]: Status.QUEUED,
        ids[4]: Status.QUEUED,
        ids[5]: Status.DONE,
    }
    capped = rows[ids[1]]
    assert (
        capped is not None
        and capped.verdict is Verdict.IE
        and "3 attempts" in (capped.message or "")
    )
    # A second pass right after finds nothing left to do.
    again = sweep(sessions, lambda *a: sent.append(a), SETTINGS, now=now)
    assert (again.requeued, again.failed, again.resent) == (0, 0, 0)
