"""What of a submission's per-test results a viewer may see (DESIGN 3.4 "Test visibility",
security invariant 10).

Admins see everything. Anyone else (the author) sees, per the problem's ``test_details``:

- ``samples`` (the default): verdict, number, points, time and memory of every test; the
  details (checker message, exit code, signal) only of samples;
- ``all``: the details of every test;
- ``verdicts``: of a hidden test the verdict, number and points alone, and those only once
  the whole submission is finished (the time a row appears would give its time away).

Why the details: a program controls its output, so a checker message quoting "found" (or
"expected") lets it print its hidden input and read it back; it also controls its exit code
(8 bits per test) and the signal it dies of. Time and memory are the remaining channel, and
``verdicts`` closes it for contests that want that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import Submission, TestCase, TestResult, User
from store.problems import shows_totals
from store.vocab import FINISHED, Verdict

HIDDEN_DETAIL = ""
#: Shown to a non-admin instead of an internal error's text (which can quote a checker's
#: stderr, and with it the test it was reading).
INTERNAL_ERROR_NOTE = "internal error: the judge's admins have the details"
RETRY_NOTE = "an internal error interrupted grading; it will be tried again"


@dataclass(frozen=True)
class Viewer:
    admin: bool
    policy: str  # the problem's test_details
    samples: frozenset[int]  # test indices marked as samples
    finished: bool  # the submission is graded (no more rows will come)

    def shows_details(self, index: int) -> bool:
        return self.admin or self.policy == "all" or index in self.samples

    def shows_row(self, index: int) -> bool:
        return self.shows_details(index) or self.policy != "verdicts" or self.finished

    def shows_measurements(self, index: int) -> bool:
        return self.shows_details(index) or self.policy != "verdicts"

    @property
    def shows_totals(self) -> bool:
        """The submission's time and memory: the maxima over its tests, hidden ones too."""
        return shows_totals(self.policy, admin=self.admin)


def viewer_for(session: Session, sub: Submission, user: User | None) -> Viewer:
    """How `user` sees `sub`: reads the indices of the problem's samples, not their data."""
    samples = session.scalars(
        select(TestCase.index).where(TestCase.problem_id == sub.problem_id, TestCase.sample)
    )
    return Viewer(
        admin=bool(user and (user.is_admin or user.is_staff)),
        policy=sub.problem.test_details,
        samples=frozenset(samples),
        finished=sub.status in FINISHED,
    )


@dataclass(frozen=True)
class TestView:
    """One per-test row as a viewer may see it."""

    index: int
    verdict: str
    points: float
    cpu_time: float | None
    wall_time: float | None
    memory: int | None
    oom_killed: bool
    exit_code: int | None
    signal: int | None
    message: str


def test_rows(results: Iterable[TestResult], viewer: Viewer) -> list[TestView]:
    rows = []
    for r in results:
        if not viewer.shows_row(r.test_index):
            continue
        measured = viewer.shows_measurements(r.test_index)
        detailed = viewer.shows_details(r.test_index)
        rows.append(
            TestView(
                index=r.test_index,
                verdict=str(r.verdict),
                points=r.points,
                cpu_time=r.cpu_time if measured else None,
                wall_time=r.wall_time if measured else None,
                memory=r.memory if measured else None,
                oom_killed=r.oom_killed if measured else False,
                exit_code=r.exit_code if detailed else None,
                signal=r.signal if detailed else None,
                message=r.message if detailed else HIDDEN_DETAIL,
            )
        )
    return rows


def submission_message(sub: Submission, viewer: Viewer) -> str | None:
    """The submission's own message (set on internal errors, give-ups and cancellations).

    Until grading has ended, a message can only be an internal error's (an attempt released
    for another try): whatever the status, a non-admin gets the notes, never the text."""
    if viewer.admin or not sub.message:
        return sub.message
    if sub.verdict == Verdict.IE:
        return INTERNAL_ERROR_NOTE
    if sub.status not in FINISHED:
        return RETRY_NOTE
    return sub.message
