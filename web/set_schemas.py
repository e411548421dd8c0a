"""Problem sets as JSON: what the API takes and gives, and the standings as a viewer sees them.

The display text of every standings cell is made here, once: the page renders it and the live
script (static/standings.js) only places the same strings, so both always agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from store.models import ProblemSet
from store.problem_sets import SetData
from web.schemas import Text
from web.standings import Cell, Standings


def _utc(t: datetime) -> datetime:
    try:
        return t.astimezone(UTC)
    except OverflowError:  # year 1 at +05:00 is before anything a database stores
        raise ValueError("out of range") from None


When = Annotated[AwareDatetime, AfterValidator(_utc)]


class SetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Text = Field(examples=["week1"])
    title: Text = Field(examples=["Week 1: warm-up"])
    problems: list[Text] = Field(description="problem slugs, in order", examples=[["aplusb"]])
    starts_at: When | None = Field(default=None, description="None: open now")
    ends_at: When | None = Field(default=None, description="None: never ends")
    late_policy: Literal["late", "refuse"] = Field(
        default="late",
        description="after the end, submissions through the set are graded and marked late"
        " (they never count), or refused",
    )
    style: Literal["ioi", "icpc"] = "ioi"
    freeze_minutes: int = Field(default=0, ge=0, description="members see the standings"
                                " frozen for the last N minutes; admins see through")  # fmt: skip
    everyone: bool = Field(default=False, description="every signed-in user is a member")
    members: list[Text] = Field(default_factory=list, description="user names (not everyone)")

    def data(self) -> SetData:
        return SetData(
            slug=self.slug, title=self.title, problems=tuple(self.problems),
            starts_at=self.starts_at, ends_at=self.ends_at, late_policy=self.late_policy,
            style=self.style, freeze_minutes=self.freeze_minutes, everyone=self.everyone,
            members=tuple(self.members),
        )  # fmt: skip


class SetProblemOut(BaseModel):
    slug: str
    title: str
    max_score: float


class SetOut(BaseModel):
    slug: str
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    late_policy: str
    style: str
    freeze_minutes: int
    everyone: bool
    open: bool = Field(description="started: members see its problems")
    ended: bool
    #: Empty for non-admins before the start.
    problems: list[SetProblemOut]
    #: Admins only (None for others).
    members: list[str] | None = None

    @classmethod
    def of(cls, pset: ProblemSet, *, open_: bool, ended: bool, admin: bool) -> SetOut:
        shown = open_ or admin
        return cls(
            slug=pset.slug, title=pset.title, starts_at=pset.starts_at, ends_at=pset.ends_at,
            late_policy=pset.late_policy, style=pset.style, freeze_minutes=pset.freeze_minutes,
            everyone=pset.everyone, open=open_, ended=ended,
            problems=[SetProblemOut(slug=p.problem.slug, title=p.problem.title,
                                    max_score=p.problem.max_score)
                      for p in pset.problems] if shown else [],
            members=sorted(m.user.name for m in pset.members) if admin else None,
        )  # fmt: skip


class CellOut(BaseModel):
    text: str = Field(description="what the cell shows: a score, or +/−tries for ICPC")
    note: str = Field(description="minute of the AC, pending and late counts")
    kind: str = Field(description="full, partial, zero, solved, failed or none")
    score: float | None
    solved: bool
    minute: int | None
    tries: int
    attempts: int
    pending: int
    late: int


class RowOut(BaseModel):
    rank: int
    user: str
    total: float
    penalty: int
    cells: list[CellOut]


class StandingsOut(BaseModel):
    set: str
    style: str
    now: datetime
    open: bool
    ended: bool
    frozen: bool = Field(description="some attempts are shown as pending because of the freeze")
    final: bool = Field(description="ended and nothing pending: it will not change any more")
    problems: list[SetProblemOut]
    rows: list[RowOut]


def _num(value: float) -> str:
    return f"{value:g}"


def cell_out(cell: Cell, style: str, max_score: float) -> CellOut:
    notes = []
    if style == "icpc":
        if cell.solved:
            text, kind = "+" + (str(cell.tries) if cell.tries else ""), "solved"
            notes.append(f"{cell.minute} min")
        elif cell.tries:
            text, kind = f"−{cell.tries}", "failed"
        else:
            text, kind = "", "none"
    elif cell.score is None:
        text, kind = "", "none"
    else:
        text = _num(cell.score)
        full = max_score > 0 and cell.score >= max_score
        kind = "full" if full else "partial" if cell.score > 0 else "zero"
    if cell.pending:
        notes.append(f"{cell.pending} pending")
    if cell.late:
        notes.append(f"{cell.late} late")
    return CellOut(
        text=text, note=" · ".join(notes), kind=kind, score=cell.score, solved=cell.solved,
        minute=cell.minute, tries=cell.tries, attempts=cell.attempts, pending=cell.pending,
        late=cell.late,
    )  # fmt: skip


def standings_out(
    pset: ProblemSet, standings: Standings, *, now: datetime, open_: bool, ended: bool
) -> StandingsOut:
    problems = [SetProblemOut(slug=p.problem.slug, title=p.problem.title,
                              max_score=p.problem.max_score) for p in pset.problems]  # fmt: skip
    rows = [
        RowOut(rank=r.rank, user=r.name, total=r.total, penalty=r.penalty,
               cells=[cell_out(c, standings.style, p.max_score)
                      for c, p in zip(r.cells, problems, strict=True)])
        for r in standings.rows
    ]  # fmt: skip
    return StandingsOut(
        set=pset.slug, style=standings.style, now=now, open=open_, ended=ended,
        frozen=standings.frozen, final=ended and not standings.pending and not standings.frozen,
        problems=problems, rows=rows,
    )  # fmt: skip
