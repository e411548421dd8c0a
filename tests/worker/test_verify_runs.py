"""Verify from the admin page (worker.verify_runs): what a verify killed half-way leaves is
ended by the next one, and the table reads a verify batch back as the CLI prints it. The page
itself, with a real worker, is tests/web/test_pages.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import store
from store import Batch, BatchItem, Status, Submission, Verdict
from worker import verify_runs
from worker.verify import VerifyError

AB = "a, b = map(int, input().split())\nprint(a + b)\n"


def _problem(sessions: sessionmaker[Session], shipped: bool = True) -> None:
    spec = {"slug": "v", "tests": [{"input": "1 2\n", "output": "3\n"}]}
    if shipped:
        spec["submissions"] = [
            {"name": "accepted/ab.py", "language": "python3", "source": AB, "expected": ["AC"]},
            {"name": "wrong_answer/ab.py", "language": "python3", "source": AB,
             "expected": ["WA"]},
            {"name": "accepted/x.nolang", "language": "no-such-language", "source": "",
             "expected": ["AC"]},
        ]  # fmt: skip
    with sessions() as s:
        store.import_problem(s, spec)
        s.commit()


def _verify_batch(sessions: sessionmaker[Session], states: list[Status]) -> int:
    names = ["accepted/ab.py", "wrong_answer/ab.py"]
    with sessions() as s:
        problem = s.scalars(select(store.Problem)).one()
        batch = Batch(problem=problem, kind="verify")
        s.add(batch)
        for name, status in zip(names, states, strict=False):
            sub = Submission(problem=problem, language="python3", source=AB, queue="batch",
                             status=status)  # fmt: skip
            if status is Status.DONE:
                sub.verdict, sub.score, sub.time = Verdict.AC, 1.0, 0.02
            batch.items.append(BatchItem(name=name, submission=sub))
        s.commit()
        return batch.id


def test_a_half_done_verify_is_ended_by_the_next(sessions: sessionmaker[Session]) -> None:
    _problem(sessions)
    old = _verify_batch(sessions, [Status.DONE, Status.QUEUED])
    table = verify_runs.table(sessions, old)
    assert not table.done
    got = {r.name: (r.verdict, r.ok, r.note) for r in table.rows}
    assert got["accepted/ab.py"] == ("AC", True, "")
    assert got["wrong_answer/ab.py"][:2] == (None, False)
    assert "not installed" in got["accepted/x.nolang"][2]
    with sessions() as s:
        assert verify_runs.latest(s, "v") == old
    # The verify that made it died: the next one ends its queued row, once.
    assert verify_runs.end_unfinished(sessions, "v") == 1
    assert verify_runs.end_unfinished(sessions, "v") == 0
    table = verify_runs.table(sessions, old)
    assert table.done and {r.name: r.verdict for r in table.rows}["wrong_answer/ab.py"] == "SK"


def test_what_cannot_be_verified(sessions: sessionmaker[Session]) -> None:
    _problem(sessions, shipped=False)
    with sessions() as s:
        with pytest.raises(VerifyError, match="ships no submissions"):
            verify_runs.check_startable(s, "v")
        with pytest.raises(VerifyError, match="no problem"):
            verify_runs.check_startable(s, "nope")
        assert verify_runs.latest(s, "v") is None
    with pytest.raises(VerifyError, match="no verify batch"):
        verify_runs.table(sessions, 12345)
