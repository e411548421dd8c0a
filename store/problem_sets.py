"""Problem sets in the database: save one from plain data, who may see it, what counts.

A submission counts for a set when its user is a member, its problem is in the set, and it was
made inside the window, however it was submitted. ``Submission.problem_set_id`` only records
that it was made through the set, which is what makes one made after the end "late".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from store.models import Problem, ProblemSet, ProblemSetMember, ProblemSetProblem, Submission, User

STYLES = ("ioi", "icpc")
LATE_POLICIES = ("late", "refuse")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_FREEZE_MINUTES = 10 * 24 * 60
# Names are looked up with one IN (...) each; SQLite binds at most 32766 parameters.
MAX_PROBLEMS = 100
MAX_MEMBERS = 5000


class SetError(ValueError):
    """The set's data is not acceptable; the message names the field."""


@dataclass(frozen=True)
class SetData:
    """A set as the admin form and the API give it: problems and members by name."""

    slug: str
    title: str
    problems: tuple[str, ...]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    late_policy: str = "late"
    style: str = "ioi"
    freeze_minutes: int = 0
    everyone: bool = False
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attempt:
    """One submission as the standings see it (a row of :func:`attempts`)."""

    user_id: int
    problem_id: int
    at: datetime
    finished: bool
    verdict: str | None
    score: float | None


def load(session: Session, slug: str) -> ProblemSet | None:
    return session.scalars(
        select(ProblemSet)
        .where(ProblemSet.slug == slug)
        .options(
            selectinload(ProblemSet.problems).selectinload(ProblemSetProblem.problem),
            selectinload(ProblemSet.members).selectinload(ProblemSetMember.user),
        )
    ).first()


def save(session: Session, data: SetData, original: str | None = None) -> ProblemSet:
    """Create the set, or replace `original`'s fields, problems and members. Flushes only."""
    _check(data)
    problems = _problems(session, data.problems)
    members = [] if data.everyone else _users(session, data.members)
    taken = session.scalars(select(ProblemSet).where(ProblemSet.slug == data.slug)).first()
    pset = load(session, original) if original else None
    if original and pset is None:
        raise SetError(f"no problem set {original!r}")
    if taken is not None and taken is not pset:
        raise SetError(f"slug: a set {data.slug!r} exists already")
    if pset is None:
        pset = ProblemSet()
        session.add(pset)
    pset.slug, pset.title = data.slug, data.title
    pset.starts_at, pset.ends_at = data.starts_at, data.ends_at
    pset.late_policy, pset.style = data.late_policy, data.style
    pset.freeze_minutes, pset.everyone = data.freeze_minutes, data.everyone
    # Cleared and flushed first: the unique (set, problem) rows must be gone before they return.
    pset.problems.clear()
    pset.members.clear()
    session.flush()
    pset.problems.extend(
        ProblemSetProblem(problem_id=p.id, position=i) for i, p in enumerate(problems)
    )
    pset.members.extend(ProblemSetMember(user_id=u.id) for u in members)
    session.flush()
    return pset


def _check(data: SetData) -> None:
    if not _SLUG.match(data.slug):
        raise SetError("slug: lowercase letters, digits, - and _ (at most 64)")
    if not data.title.strip() or len(data.title) > 200 or "\x00" in data.title:
        raise SetError("title: 1 to 200 characters, no NUL")
    if not data.problems or len(data.problems) > MAX_PROBLEMS:
        raise SetError(f"problems: 1 to {MAX_PROBLEMS}")
    if len(data.members) > MAX_MEMBERS:
        raise SetError(f"members: at most {MAX_MEMBERS}")
    if len(set(data.problems)) != len(data.problems):
        raise SetError("problems: each problem once")
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        raise SetError("end: must be after the start")
    if data.style not in STYLES:
        raise SetError(f"style: one of {', '.join(STYLES)}")
    if data.late_policy not in LATE_POLICIES:
        raise SetError(f"late policy: one of {', '.join(LATE_POLICIES)}")
    if not 0 <= data.freeze_minutes <= MAX_FREEZE_MINUTES:
        raise SetError(f"freeze: 0 to {MAX_FREEZE_MINUTES} minutes")
    if data.freeze_minutes and data.ends_at is None:
        raise SetError("freeze: a set without an end cannot freeze")


def _problems(session: Session, slugs: tuple[str, ...]) -> list[Problem]:
    found = {p.slug: p for p in session.scalars(select(Problem).where(Problem.slug.in_(slugs)))}
    _require(slugs, found, "problem")
    return [found[s] for s in slugs]


def _users(session: Session, names: tuple[str, ...]) -> list[User]:
    wanted = tuple(dict.fromkeys(names))
    found = {u.name: u for u in session.scalars(select(User).where(User.name.in_(wanted)))}
    _require(wanted, found, "user")
    return [found[n] for n in wanted]


def _require(wanted: tuple[str, ...], found: Mapping[str, object], what: str) -> None:
    missing = [n for n in wanted if n not in found]
    if missing:
        raise SetError(f"no {what} {', '.join(map(repr, missing))}")


def is_member(pset: ProblemSet, user: User | None) -> bool:
    if user is None:
        return False
    return pset.everyone or any(m.user_id == user.id for m in pset.members)


def can_see(pset: ProblemSet, user: User | None) -> bool:
    """Everyone-sets are public (standings included); others only to members and admins."""
    return pset.everyone or (user is not None and (user.is_admin or is_member(pset, user)))


def is_open(pset: ProblemSet, now: datetime) -> bool:
    """Started (or no start): its problems are shown to members."""
    return pset.starts_at is None or now >= pset.starts_at


def has_ended(pset: ProblemSet, now: datetime) -> bool:
    return pset.ends_at is not None and now >= pset.ends_at


def visible_sets(session: Session, user: User | None) -> list[ProblemSet]:
    query = select(ProblemSet).order_by(ProblemSet.starts_at.desc(), ProblemSet.id.desc())
    if user is None:
        query = query.where(ProblemSet.everyone)
    elif not user.is_admin:
        mine = select(ProblemSetMember.set_id).where(ProblemSetMember.user_id == user.id)
        query = query.where(ProblemSet.everyone | ProblemSet.id.in_(mine))
    return list(session.scalars(query))


def participants(session: Session, pset: ProblemSet) -> list[tuple[int, str]]:
    """(id, name) of the standings' rows: every listed member, even one who never submitted
    (a gradebook needs the zero); for an everyone-set, the non-admins who submitted in it."""
    if not pset.everyone:
        return sorted(((m.user.id, m.user.name) for m in pset.members), key=lambda u: u[1])
    problem_ids = [p.problem_id for p in pset.problems]
    query = (
        select(User.id, User.name)
        .join(Submission, Submission.user_id == User.id)
        .where(Submission.problem_id.in_(problem_ids), User.is_admin.is_(False))
        .distinct()
    )
    if pset.starts_at is not None:
        query = query.where(Submission.created_at >= pset.starts_at)
    if pset.ends_at is not None:  # practice after the end does not make a participant
        query = query.where((Submission.created_at < pset.ends_at)
                            | (Submission.problem_set_id == pset.id))  # fmt: skip
    return sorted(((i, n) for i, n in session.execute(query)), key=lambda u: u[1])


def attempts(session: Session, pset: ProblemSet, user_ids: list[int]) -> list[Attempt]:
    """Submissions of these users to the set's problems since its start, late ones included
    (the standings mark them), oldest first."""
    problem_ids = [p.problem_id for p in pset.problems]
    if not problem_ids or not user_ids:
        return []
    query = (
        select(Submission.user_id, Submission.problem_id, Submission.created_at,
               Submission.status, Submission.verdict, Submission.score,
               Submission.problem_set_id)
        .where(Submission.problem_id.in_(problem_ids), Submission.user_id.in_(user_ids))
        .order_by(Submission.created_at, Submission.id)
    )  # fmt: skip
    if pset.starts_at is not None:
        query = query.where(Submission.created_at >= pset.starts_at)
    out = []
    for user_id, problem_id, at, status, verdict, score, through in session.execute(query):
        if user_id is None:
            continue
        if pset.ends_at is not None and at >= pset.ends_at and through != pset.id:
            continue  # practice after the end, not through the set: not this set's business
        out.append(Attempt(user_id, problem_id, at, status in ("done", "error"),
                           None if verdict is None else str(verdict), score))  # fmt: skip
    return out


def late_for(session: Session, sub: Submission) -> ProblemSet | None:
    """The set `sub` was submitted through after its end, if any: it is graded but late."""
    if sub.problem_set_id is None:
        return None
    pset = session.get(ProblemSet, sub.problem_set_id)
    if pset is None or pset.ends_at is None or sub.created_at < pset.ends_at:
        return None
    return pset
