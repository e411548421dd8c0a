"""``/api/sets``: problem sets (assignments, contests), their standings, gradebook, submitting.

Anyone may read a set open to everyone; a set with a member list is seen by its members and
admins only, and to anyone else it does not exist (404). Admins create and change sets.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import update
from sqlalchemy.orm import Session

from store import Submission, User, utcnow
from store import problem_sets as sets
from store.models import ProblemSet
from web import standings
from web.api import submissions as api_submissions
from web.deps import DB, AdminUser, CurrentUser, MaybeUser, app_state
from web.errors import ApiError
from web.schemas import SubmissionCreated, SubmissionIn, error_responses
from web.set_schemas import SetIn, SetOut, StandingsOut, standings_out
from web.ttl_cache import TtlCache

router = APIRouter(prefix="/api/sets", tags=["problem sets"])
_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


def find(session: Session, slug: str, user: User | None) -> ProblemSet:
    pset = sets.load(session, slug)
    if pset is None or not sets.can_see(pset, user):
        raise ApiError(404, f"no problem set {slug!r}")
    return pset


def set_out(pset: ProblemSet, user: User | None, now: datetime) -> SetOut:
    admin = user is not None and user.is_admin
    return SetOut.of(pset, open_=sets.is_open(pset, now), ended=sets.has_ended(pset, now),
                     admin=admin)  # fmt: skip


def standings_for(
    session: Session, pset: ProblemSet, user: User | None, now: datetime
) -> StandingsOut:
    admin = user is not None and user.is_admin
    open_, ended = sets.is_open(pset, now), sets.has_ended(pset, now)
    if not open_ and not admin:
        # Before the start even the problem names are the set's secret.
        return StandingsOut(set=pset.slug, style=pset.style, now=now, open=False, ended=False,
                            frozen=False, final=False, problems=[], rows=[])  # fmt: skip

    def make() -> StandingsOut:
        table = _table(session, pset, now, see_through_freeze=admin)
        return standings_out(pset, table, now=now, open_=open_, ended=ended)

    return _CACHE.get_or_make((_signature(pset), admin, open_, ended), make)


#: Standings served to polls for up to STANDINGS_TTL seconds (bench/standings_cost.py: one
#: computation for 300 users and 12,000 submissions is a few hundred ms).
STANDINGS_TTL = 2.0
_CACHE: TtlCache[StandingsOut] = TtlCache(STANDINGS_TTL, size=256)


def _signature(pset: ProblemSet) -> tuple[object, ...]:
    """Everything of the set the standings depend on: an edit is seen at once, not in 2 s."""
    return (pset.id, pset.style, pset.starts_at, pset.ends_at, pset.freeze_minutes,
            pset.everyone, tuple(p.problem_id for p in pset.problems),
            tuple(sorted(m.user_id for m in pset.members)))  # fmt: skip


def _table(
    session: Session, pset: ProblemSet, now: datetime, *, see_through_freeze: bool
) -> standings.Standings:
    users = sets.participants(session, pset)
    rules = standings.Rules(pset.style, pset.starts_at, pset.ends_at, pset.freeze_minutes,
                            origin=pset.created_at)  # fmt: skip
    return standings.compute(
        rules, [p.problem_id for p in pset.problems], users,
        sets.attempts(session, pset, [u for u, _ in users]), now=now,
        see_through_freeze=see_through_freeze,
    )  # fmt: skip


def gradebook(session: Session, pset: ProblemSet, now: datetime) -> str:
    """Admins' view: through the freeze, late attempts left out."""
    table = _table(session, pset, now, see_through_freeze=True)
    return standings.gradebook_csv(table, [p.problem.slug for p in pset.problems])


def check_submit(pset: ProblemSet, user: User, problem: str, now: datetime) -> None:
    """May `user` submit `problem` through `pset` now? ApiError saying why not."""
    if not (user.is_admin or sets.is_member(pset, user)):
        raise ApiError(403, f"you are not a member of {pset.title!r}")
    if problem not in {p.problem.slug for p in pset.problems}:
        raise ApiError(404, f"{pset.title!r} has no problem {problem!r}")
    if not sets.is_open(pset, now) and not user.is_admin:
        assert pset.starts_at is not None
        raise ApiError(403, f"{pset.title!r} opens at {pset.starts_at:%Y-%m-%d %H:%M:%S} UTC")
    if sets.has_ended(pset, now) and pset.late_policy == "refuse":
        assert pset.ends_at is not None
        raise ApiError(403, f"{pset.title!r} ended at {pset.ends_at:%Y-%m-%d %H:%M:%S} UTC;"
                       " it takes no more submissions")  # fmt: skip


def shown_through(
    session: Session, set_slug: str, problem_slug: str, user: User | None
) -> SetOut | None:
    """The set a problem page is shown through (``?set=``), when the viewer may submit
    through it; before its start a member sees the problem as if reached without the set."""
    pset = sets.load(session, set_slug)
    if pset is None or not sets.can_see(pset, user):
        return None
    out = set_out(pset, user, utcnow())
    return out if any(p.slug == problem_slug for p in out.problems) else None


def attribute(session: Session, submission_id: int, pset: ProblemSet) -> None:
    """Record the set a submission was made through: one made after the end is late.

    A second statement after the submit committed, so the worker's submit path stays as it is;
    should it be lost, the submission still counts by its time, only a late mark is missing.
    """
    session.execute(
        update(Submission).where(Submission.id == submission_id).values(problem_set_id=pset.id)
    )
    session.commit()


@router.get("", response_model=list[SetOut], responses=_ERRORS, summary="Sets you can see")
def list_sets(session: DB, user: MaybeUser) -> list[SetOut]:
    now = utcnow()
    return [set_out(p, user, now) for p in sets.visible_sets(session, user)]


def _save(session: Session, body: SetIn, original: str | None) -> SetOut:
    try:
        pset = sets.save(session, body.data(), original)
    except sets.SetError as e:
        status = 404 if str(e).startswith("no problem set") else 422
        raise ApiError(status, str(e)) from None
    session.commit()
    loaded = sets.load(session, pset.slug)
    assert loaded is not None
    return SetOut.of(loaded, open_=sets.is_open(loaded, utcnow()),
                     ended=sets.has_ended(loaded, utcnow()), admin=True)  # fmt: skip


@router.post("", status_code=201, response_model=SetOut, responses=_ERRORS,
             summary="Create a set (admins)")  # fmt: skip
def create_set(body: SetIn, session: DB, admin: AdminUser) -> SetOut:
    return _save(session, body, None)


@router.put("/{slug}", response_model=SetOut, responses=_ERRORS, summary="Change a set (admins)")
def replace_set(slug: str, body: SetIn, session: DB, admin: AdminUser) -> SetOut:
    return _save(session, body, slug)


@router.delete("/{slug}", status_code=204, responses=_ERRORS,
               summary="Delete a set (admins); its submissions stay")  # fmt: skip
def delete_set(slug: str, session: DB, admin: AdminUser) -> Response:
    session.delete(find(session, slug, admin))
    session.commit()
    return Response(status_code=204)


@router.get("/{slug}", response_model=SetOut, responses=_ERRORS, summary="One set")
def get_set(slug: str, session: DB, user: MaybeUser) -> SetOut:
    return set_out(find(session, slug, user), user, utcnow())


@router.get("/{slug}/standings", response_model=StandingsOut, responses=_ERRORS,
            summary="Standings, frozen for members during the freeze")  # fmt: skip
def get_standings(slug: str, session: DB, user: MaybeUser) -> StandingsOut:
    return standings_for(session, find(session, slug, user), user, utcnow())


@router.get("/{slug}/standings.csv", responses={200: {"content": {"text/csv": {}}}, **_ERRORS},
            summary="The gradebook (admins): a row per user, a column per problem")  # fmt: skip
def get_gradebook(slug: str, session: DB, admin: AdminUser) -> Response:
    text = gradebook(session, find(session, slug, admin), utcnow())
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{slug}-gradebook.csv"'})  # fmt: skip


@router.post("/{slug}/submissions", status_code=202, response_model=SubmissionCreated,
             responses={**_ERRORS, **error_responses(413, 429, 503)},
             summary="Submit through the set (refused before its start, or after its end"
                     " when its late policy says so)")  # fmt: skip
async def submit(slug: str, body: SubmissionIn, request: Request,
                 user: CurrentUser) -> SubmissionCreated:  # fmt: skip
    state = app_state(request)

    def create() -> int:
        with state.sessions() as session:
            pset = find(session, slug, user)
            check_submit(pset, user, body.problem, utcnow())
            sid = api_submissions.create_submission(
                state, session, user, body.problem, body.language, body.source, body.files
            )
            attribute(session, sid, pset)
            return sid

    return SubmissionCreated(id=await run_in_threadpool(create), status="queued")
