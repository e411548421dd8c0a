"""Models on real SQLite and PostgreSQL: constraints, enums as text, aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import store
from store import Status, Submission, TestResult, Verdict


def _problem(s: Session) -> store.Problem:
    return store.import_problem(
        s,
        {"slug": "p", "tests": [{"input": "1\n", "output": "1\n"}, {"input": "2", "output": "2"}]},
    )


def test_enums_are_stored_as_their_codes(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        p = _problem(s)
        sub = Submission(problem=p, language="python3", source="print(1)", verdict=Verdict.TLE)
        s.add(sub)
        s.commit()
        raw = s.execute(text("SELECT status, verdict FROM submissions")).one()
        assert tuple(raw) == ("queued", "TLE")
        again = s.get(Submission, sub.id)
        assert again is not None and again.status is Status.QUEUED


def test_datetimes_come_back_aware_utc(sessions: sessionmaker[Session]) -> None:
    lease = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(microseconds=7)
    with sessions() as s:
        sub = Submission(problem=_problem(s), language="c", source="", lease_until=lease)
        s.add(sub)
        s.commit()
        sid = sub.id
    with sessions() as s:
        got = s.scalars(select(Submission.lease_until).where(Submission.id == sid)).one()
        assert got == lease and got.tzinfo is not None
        # The comparison the sweeper relies on happens in SQL, on both backends.
        n = s.scalar(
            select(Submission.id).where(Submission.lease_until < lease + timedelta(seconds=1))
        )
        assert n == sid


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.add(Submission(problem=_problem(s), language="c", source="", lease_until=datetime.now()))
        with pytest.raises(Exception, match="naive datetime"):
            s.commit()


def test_one_result_per_submission_and_test(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        sub = Submission(problem=_problem(s), language="c", source="")
        s.add(sub)
        s.flush()
        s.add(TestResult(submission_id=sub.id, test_index=1, verdict=Verdict.AC))
        s.commit()
        s.add(TestResult(submission_id=sub.id, test_index=1, verdict=Verdict.WA))
        with pytest.raises(IntegrityError):
            s.commit()


def test_deleting_a_problem_cascades(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        p = _problem(s)
        sub = Submission(problem=p, language="c", source="")
        s.add(sub)
        s.flush()
        s.add(TestResult(submission_id=sub.id, test_index=1, verdict=Verdict.AC))
        s.commit()
        s.delete(p)
        s.commit()
        assert s.scalar(select(TestResult.id)) is None
        assert s.scalar(select(store.TestCase.id)) is None
