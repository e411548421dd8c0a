"""``judge problem verify``: grade the submissions a package ships and compare verdicts.

Every shipped submission (ICPC ``submissions/<verdict>/``, Polygon solutions by tag, DOMjudge
``@EXPECTED_RESULTS@``) becomes a real Submission in a ``verify`` batch and is graded by
:func:`worker.pipeline.grade`, the code a Celery worker runs, here in this process (like
problemtools' verifyproblem: no broker or running worker is needed). A package with no time
limit gets one first, by its format's rule, from its accepted submissions.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Batch, BatchItem, PackageSubmission, Problem, Submission
from store.vocab import Status, Verdict
from worker import languages, pipeline
from worker.config import Settings
from worker.execution import Runner, sandbox_runner

#: Before the time limit is known, accepted submissions run under this one (seconds).
PROBING_TIME_LIMIT = 10.0
#: Kattis and DOMjudge run an ICPC package's Python 3 submissions with PyPy3, so its expected
#: verdicts and time limits were made with PyPy3: verify uses it too where this host has it.
_REFERENCE_INTERPRETER = {"icpc": {"python3": "pypy3"}}


class VerifyError(ValueError):
    """The problem cannot be verified (unknown slug, nothing shipped); one line for the CLI."""


@dataclass
class Row:
    name: str
    language: str
    expected: list[str]
    expected_score: float | None
    verdict: str | None = None
    score: float | None = None
    time: float | None = None  # the slowest test's CPU time
    mismatches: list[str] = field(default_factory=list)  # "3: WA" for tests that disagree
    note: str = ""  # why the row was not graded (language missing here)
    submission_id: int | None = None

    @property
    def graded(self) -> bool:
        return self.verdict is not None

    @property
    def ok(self) -> bool:
        if self.verdict is None or self.verdict not in self.expected:
            return False
        if self.expected_score is None or self.score is None:
            return True
        return math.isclose(self.score, self.expected_score, rel_tol=1e-6, abs_tol=1e-6)


@dataclass
class Report:
    problem: str
    time_limit: float
    time_limit_set: bool  # True: verify set it from the accepted submissions
    rows: list[Row]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows if r.graded)

    def as_json(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "time_limit": self.time_limit,
            "time_limit_set": self.time_limit_set,
            "ok": self.ok,
            "rows": [asdict(r) | {"ok": r.ok, "graded": r.graded} for r in self.rows],
        }


def _retry_later(_sid: int, _queue: str, _countdown: float) -> None:
    """pipeline.grade's enqueue: verify grades again itself instead of sending a message."""


def verify(
    sessions: sessionmaker[Session],
    slug: str,
    settings: Settings,
    *,
    run: Runner = sandbox_runner,
    progress: Callable[[Row], None] | None = None,
) -> Report:
    with sessions() as s:
        problem = s.scalars(select(Problem).where(Problem.slug == slug)).first()
        if problem is None:
            raise VerifyError(f"no problem {slug!r}")
        shipped = list(problem.submissions_shipped)
        if not shipped:
            raise VerifyError(f"problem {slug!r} ships no submissions to verify")
        package = dict(problem.package or {})
        rows = [
            Row(p.name, _judged_as(p.language, package), list(p.expected), p.expected_score)
            for p in shipped
        ]
    by_name = {p.name: p for p in shipped}
    for row in rows:
        lang = languages.known(row.language)
        if lang is None or not lang.available():
            row.note = f"language {row.language!r} is not installed here"

    time_limit_set = False
    if package.get("time_limit_from_submissions"):
        accepted = [r for r in rows if r.expected == ["AC"] and not r.note]
        _set_time_limit(sessions, slug, package, accepted, by_name, settings, run)
        time_limit_set = True

    gradable = [r for r in rows if not r.note]
    _grade_rows(sessions, slug, gradable, by_name, settings, run, progress)
    with sessions() as s:
        tl = s.scalars(select(Problem.time_limit).where(Problem.slug == slug)).one()
    return Report(slug, tl, time_limit_set, rows)


def _judged_as(language: str, package: dict[str, Any]) -> str:
    """The language a shipped submission is graded in: the reference judges' interpreter
    for its format when this host has it, else its own."""
    reference = _REFERENCE_INTERPRETER.get(str(package.get("format")), {}).get(language)
    found = languages.known(reference) if reference else None
    return reference if reference and found is not None and found.available() else language


def _set_time_limit(
    sessions: sessionmaker[Session],
    slug: str,
    package: dict[str, Any],
    accepted: list[Row],
    by_name: dict[str, PackageSubmission],
    settings: Settings,
    run: Runner,
) -> None:
    """problemtools' rule: the slowest accepted submission's time x ``time_multiplier``
    (legacy 5, 2023-07's ac_to_time_limit 2), rounded up to a whole second."""
    if not accepted:
        raise VerifyError("the package has no time limit and no accepted submission to set one")
    with sessions() as s:
        problem = s.scalars(select(Problem).where(Problem.slug == slug)).one()
        problem.time_limit = PROBING_TIME_LIMIT
        s.commit()
    probes = [Row(r.name, r.language, r.expected, r.expected_score) for r in accepted]
    _grade_rows(sessions, slug, probes, by_name, settings, run, None)
    # Those that fail anyway (a compile error) show up in the verify table that follows.
    times = [r.time for r in probes if r.verdict == "AC" and r.time is not None]
    if not times:
        bad = ", ".join(f"{r.name} ({r.verdict})" for r in probes)
        raise VerifyError(f"no accepted submission passes under {PROBING_TIME_LIMIT:g} s: {bad}")
    multiplier = float(package.get("time_multiplier", 5.0))
    limit = float(min(60, max(1, math.ceil(max(times) * multiplier))))
    with sessions() as s:
        problem = s.scalars(select(Problem).where(Problem.slug == slug)).one()
        problem.time_limit = limit
        problem.package = {
            **package,
            "time_limit_from_submissions": False,
            "time_limit_set_by_verify": limit,
        }
        s.commit()


def _grade_rows(
    sessions: sessionmaker[Session],
    slug: str,
    rows: list[Row],
    by_name: dict[str, PackageSubmission],
    settings: Settings,
    run: Runner,
    progress: Callable[[Row], None] | None,
) -> None:
    with sessions() as s:
        problem = s.scalars(select(Problem).where(Problem.slug == slug)).one()
        batch = Batch(problem=problem, kind="verify")
        s.add(batch)
        for row in rows:
            shipped = by_name[row.name]
            sub = Submission(
                problem=problem,
                language=row.language,
                source=shipped.source,
                files=dict(shipped.files) if shipped.files else None,
                queue="batch",
                status=Status.QUEUED,
                max_score=problem.max_score,
            )
            s.add(sub)
            batch.items.append(BatchItem(name=row.name, submission=sub))
            s.flush()
            row.submission_id = sub.id
        s.commit()
    owner = f"verify@{socket.gethostname()}"
    for row in rows:
        assert row.submission_id is not None
        for _ in range(settings.max_attempts):
            outcome = pipeline.grade(
                sessions, row.submission_id, settings=settings, owner=owner,
                enqueue=_retry_later, run=run,
            )  # fmt: skip
            if outcome != "retry":
                break
        _read(sessions, row)
        if progress is not None:
            progress(row)


def _read(sessions: sessionmaker[Session], row: Row) -> None:
    with sessions() as s:
        sub = s.get(Submission, row.submission_id)
        assert sub is not None
        row.verdict = sub.verdict.value if sub.verdict else "IE"
        row.score, row.time = sub.score, sub.time
        if sub.message and sub.verdict is Verdict.IE:
            row.note = sub.message.splitlines()[0][:200]
        if not row.ok:
            row.mismatches = [
                f"{r.test_index}: {r.verdict.value}"
                for r in sub.results
                if r.verdict not in (Verdict.AC, Verdict.SK)
                and r.verdict.value not in row.expected
            ]
