"""JSON shapes of the API (DESIGN 3.4), as Pydantic models so /docs documents them."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from store import Problem, Submission, SubmissionHistory
from store.problems import shows_totals
from web.visibility import TestView, Viewer, submission_message, test_rows


def _encodable(text: str) -> str:
    # JSON can carry a lone surrogate ("\ud800"), which no UTF-8 encoder takes: refuse it
    # here (422) rather than fail later when the text is stored or sent to a box.
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("text contains a lone surrogate (not valid Unicode)") from None
    return text


Text = Annotated[str, AfterValidator(_encodable)]


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    problem: Text = Field(description="problem slug", examples=["aplusb"])
    language: Text = Field(description="a language id from GET /api/languages", examples=["python3"])
    source: Text = Field(
        default="",
        description="the entry point's text; empty with `files`: the entry point is chosen"
        " among them as Kattis and DOMjudge do (named main, else the one defining main)",
        examples=["a, b = map(int, input().split())\nprint(a + b)\n"],
    )
    files: dict[Text, Text] | None = Field(
        default=None,
        description="a multi-file submission's other files, {name: text}",
    )
    callback_url: Text | None = Field(
        default=None,
        description="POSTed the verdict as JSON when graded, signed with the token's webhook"
        " secret (GET /api/webhooks/secret); needs a bearer token",
        examples=["https://example.com/judge-hook"],
    )


class SubmissionCreated(BaseModel):
    id: int
    status: str


class TestOut(BaseModel):
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

    @classmethod
    def of(cls, view: TestView) -> TestOut:
        return cls(**dataclasses.asdict(view))


class HistoryOut(BaseModel):
    """A grading that a rejudge replaced."""

    verdict: str | None
    score: float | None
    max_score: float | None
    time: float | None
    memory: int | None
    tests: list[str] = Field(description="per-test verdicts in test order")
    graded_at: str | None
    replaced_at: str
    batch: int | None = Field(description="the rejudge batch that replaced it, if any")

    @classmethod
    def of(cls, h: SubmissionHistory, *, totals: bool) -> HistoryOut:
        """``totals``: the viewer may see time and memory (web.visibility.shows_totals)."""
        return cls(
            verdict=str(h.verdict) if h.verdict else None,
            score=h.score,
            max_score=h.max_score,
            time=h.time if totals else None,
            memory=h.memory if totals else None,
            tests=[str(t.get("verdict", "")) for t in h.tests],
            graded_at=h.graded_at.isoformat() if h.graded_at else None,
            replaced_at=h.replaced_at.isoformat(),
            batch=h.batch_id,
        )


class SubmissionOut(BaseModel):
    id: int
    problem: str
    language: str
    user: str | None
    status: str
    verdict: str | None
    score: float | None
    max_score: float | None
    time: float | None
    memory: int | None
    compile_output: str | None
    message: str | None
    test_count: int
    created_at: str
    finished_at: str | None
    tests: list[TestOut]
    source: str | None = Field(default=None, description="only for the author and admins")
    history: list[HistoryOut] = Field(
        default_factory=list, description="earlier gradings that rejudges replaced, oldest first"
    )

    @classmethod
    def of(cls, s: Submission, *, with_source: bool, viewer: Viewer) -> SubmissionOut:
        """As `viewer` may see it (web.visibility): hidden tests' details only for admins."""
        return cls(
            id=s.id,
            problem=s.problem.slug,
            language=s.language,
            user=s.user.name if s.user else None,
            status=str(s.status),
            verdict=str(s.verdict) if s.verdict else None,
            score=s.score,
            max_score=s.max_score,
            time=s.time if viewer.shows_totals else None,
            memory=s.memory if viewer.shows_totals else None,
            compile_output=s.compile_output,
            message=submission_message(s, viewer),
            test_count=s.problem.test_count,
            created_at=s.created_at.isoformat(),
            finished_at=s.finished_at.isoformat() if s.finished_at else None,
            tests=[TestOut.of(view) for view in test_rows(s.results, viewer)],
            source=s.source if with_source else None,
            history=[HistoryOut.of(h, totals=viewer.shows_totals) for h in s.history],
        )


class SubmissionSummary(BaseModel):
    id: int
    problem: str
    language: str
    user: str | None
    status: str
    verdict: str | None
    score: float | None
    time: float | None
    memory: int | None
    created_at: str

    @classmethod
    def of(cls, s: Submission, *, admin: bool) -> SubmissionSummary:
        totals = shows_totals(s.problem.test_details, admin=admin)
        return cls(
            id=s.id,
            problem=s.problem.slug,
            language=s.language,
            user=s.user.name if s.user else None,
            status=str(s.status),
            verdict=str(s.verdict) if s.verdict else None,
            score=s.score,
            time=s.time if totals else None,
            memory=s.memory if totals else None,
            created_at=s.created_at.isoformat(),
        )


class ProblemSummary(BaseModel):
    slug: str
    title: str
    time_limit: float
    memory_limit: int
    tests: int
    max_score: float

    @classmethod
    def of(cls, p: Problem) -> ProblemSummary:
        return cls(
            slug=p.slug,
            title=p.title,
            time_limit=p.time_limit,
            memory_limit=p.memory_limit,
            tests=p.test_count,
            max_score=p.max_score,
        )


class ProblemOut(ProblemSummary):
    statement: str
    checker_type: str
    interactive: bool
    tests_detail: list[dict[str, Any]] | None = Field(
        default=None, description="inputs and outputs; only in an admin's GET"
    )


class Language(BaseModel):
    id: str
    name: str
    source_file: str
    version: str = Field(
        default="", description="the toolchain's version line on the web host; '' if unknown",
        examples=["gcc (Debian 12.2.0-14) 12.2.0"],
    )


class RunLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    cpu_time: float | None = Field(default=None, gt=0, description="seconds")
    wall_time: float | None = Field(default=None, gt=0, description="seconds")
    memory: int | str | None = Field(default=None, description="bytes, or a size like '256M'")
    output: int | str | None = Field(
        default=None, description="bytes of stdout/stderr kept, or '1M'"
    )
    pids: int | None = Field(default=None, gt=0)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Text = Field(examples=["python3"])
    source: Text = Field(examples=["print(input()[::-1])\n"])
    stdin: Text = ""
    limits: RunLimits = Field(default_factory=lambda: RunLimits())


class RunOut(BaseModel):
    status: str = Field(description="'done', or 'compile_error' when compiling failed")
    verdict: str | None
    compile_output: str | None
    exit_code: int | None
    signal: int | None
    cpu_time: float | None
    wall_time: float | None
    memory: int | None
    oom_killed: bool
    stdout: str
    stderr: str
    message: str


class ErrorOut(BaseModel):
    error: str
    detail: Any


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A route's documented errors (OpenAPI `responses`): each code answers with ErrorOut."""
    return {code: {"model": ErrorOut} for code in codes}
