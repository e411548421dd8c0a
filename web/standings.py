"""Standings of a problem set, computed from plain data: no database, no clock of its own.

IOI: the sum of each user's best score per problem. ICPC: problems solved, then penalty time:
for each solved problem, the minutes from the set's start to its first AC plus 20 per rejected
attempt before it. Compile errors (and internal errors, the judge's fault) are no rejection,
as at the ICPC.

Attempts before the start do not count; those after the end are late: shown, never counted.
During a freeze (the last N minutes), viewers who may not see through it get the attempts made
since it began as pending, as if not yet graded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.problem_sets import Attempt

PENALTY_MINUTES = 20
#: Verdicts that cost an ICPC penalty. Not CE (the ICPC rule), not IE (the judge failed).
REJECTED = frozenset({"WA", "PE", "TLE", "MLE", "OLE", "RE", "SV"})


@dataclass(frozen=True)
class Rules:
    style: str  # "ioi" | "icpc"
    start: datetime | None  # None: no window start (every attempt since ever counts)
    end: datetime | None
    freeze_minutes: int = 0
    #: Where ICPC minutes count from when the set has no start (its creation).
    origin: datetime | None = None

    @property
    def freeze_at(self) -> datetime | None:
        if self.end is None or self.freeze_minutes <= 0:
            return None
        return self.end - timedelta(minutes=self.freeze_minutes)


@dataclass
class Cell:
    attempts: int = 0  # counted (graded, inside the window, visible)
    pending: int = 0  # not graded yet, or hidden by the freeze
    late: int = 0
    score: float | None = None  # IOI: best score; None: nothing counted yet
    solved: bool = False  # ICPC
    minute: int | None = None  # ICPC: of the first AC
    tries: int = 0  # ICPC: rejected attempts before the first AC

    @property
    def penalty(self) -> int:
        return (self.minute or 0) + PENALTY_MINUTES * self.tries if self.solved else 0


@dataclass
class Row:
    user_id: int
    name: str
    cells: list[Cell]
    rank: int = 0
    total: float = 0.0  # IOI: points; ICPC: problems solved
    penalty: int = 0  # ICPC only


@dataclass
class Standings:
    style: str
    frozen: bool  # some attempts are hidden from this viewer by the freeze
    pending: bool  # some attempt is still pending for this viewer
    rows: list[Row] = field(default_factory=list)


def compute(
    rules: Rules,
    problem_ids: Sequence[int],
    users: Iterable[tuple[int, str]],
    attempts: Iterable[Attempt],
    *,
    now: datetime,
    see_through_freeze: bool,
) -> Standings:
    column = {pid: i for i, pid in enumerate(problem_ids)}
    rows = {uid: Row(uid, name, [Cell() for _ in problem_ids]) for uid, name in users}
    freeze_at = rules.freeze_at
    frozen = (not see_through_freeze and freeze_at is not None and rules.end is not None
              and now < rules.end)  # fmt: skip
    origin = rules.start or rules.origin
    hidden = False
    for a in sorted(attempts, key=lambda a: a.at):
        row = rows.get(a.user_id)
        if row is None or a.problem_id not in column:
            continue
        cell = row.cells[column[a.problem_id]]
        if rules.start is not None and a.at < rules.start:
            continue
        if rules.end is not None and a.at >= rules.end:
            cell.late += 1
        elif frozen and freeze_at is not None and a.at >= freeze_at:
            cell.pending += 1
            hidden = True
        elif not a.finished:
            cell.pending += 1
        elif rules.style == "icpc":
            _icpc(cell, a, origin)
        else:
            cell.attempts += 1
            cell.score = max(cell.score or 0.0, a.score or 0.0)
    out = Standings(rules.style, frozen=hidden, pending=any(
        c.pending for r in rows.values() for c in r.cells))  # fmt: skip
    for row in rows.values():
        if rules.style == "icpc":
            row.total = sum(1 for c in row.cells if c.solved)
            row.penalty = sum(c.penalty for c in row.cells)
        else:
            row.total = sum(c.score or 0.0 for c in row.cells)
    out.rows = _ranked(list(rows.values()), rules.style)
    return out


def _icpc(cell: Cell, a: Attempt, origin: datetime | None) -> None:
    if cell.solved:
        return  # after the first AC nothing changes the problem's line
    cell.attempts += 1
    if a.verdict == "AC":
        cell.solved = True
        cell.minute = 0 if origin is None else max(0, int((a.at - origin).total_seconds() // 60))
    elif a.verdict in REJECTED:
        cell.tries += 1


def _key(row: Row, style: str) -> tuple[float, float]:
    return (-row.total, row.penalty if style == "icpc" else 0)


def _ranked(rows: list[Row], style: str) -> list[Row]:
    """Best first; equal keys share a rank (1, 2, 2, 4), listed by name."""
    rows.sort(key=lambda r: (_key(r, style), r.name))
    for i, row in enumerate(rows):
        same = i > 0 and _key(rows[i - 1], style) == _key(row, style)
        row.rank = rows[i - 1].rank if same else i + 1
    return rows


def _cell_text(text: str) -> str:
    # A user name is data, not a spreadsheet formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _number(value: float) -> str:
    return f"{value:g}"


def gradebook_csv(standings: Standings, problem_slugs: Sequence[str]) -> str:
    """One row per user, one column per problem (IOI: best score; ICPC: 1 solved, 0 not),
    then the total (and the penalty minutes for ICPC). Late attempts are not in it."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    icpc = standings.style == "icpc"
    w.writerow(["rank", "user", *problem_slugs, "total", *(["penalty"] if icpc else [])])
    for r in standings.rows:
        cells = [("1" if c.solved else "0") if icpc else _number(c.score or 0.0) for c in r.cells]
        tail = [str(r.penalty)] if icpc else []
        w.writerow([r.rank, _cell_text(r.name), *cells, _number(r.total), *tail])
    return buf.getvalue()
