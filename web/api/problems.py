"""``/api/problems``: list, read, create or replace (admins), rejudge (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, selectinload

import store
from store import Problem, TestCase, User, utcnow
from store.models import ProblemSet, ProblemSetProblem
from web import batch_io, problem_io
from web.deps import DB, AdminUser, MaybeUser, app_state, reviews
from web.errors import ApiError
from web.schemas import ProblemOut, ProblemSummary, error_responses

router = APIRouter(prefix="/api/problems", tags=["problems"])
_ERRORS = error_responses(400, 401, 403, 404, 413, 422)

_PROBLEM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["slug", "tests"],
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "statement": {"type": "string", "description": "Markdown"},
                        "time_limit": {"type": "number"},
                        "memory_limit": {"type": ["string", "integer"]},
                        "checker": {"type": "object"},
                        "interactor": {
                            "type": "object",
                            "description": "makes the problem interactive: {language, source, protocol, files,"
                            " flags}; testlib: run as `interactor INPUT OUTPUT ANSWER`, icpc:"
                            " `validator INPUT ANSWER FEEDBACK_DIR [flags]`, talking to the"
                            " solution through stdin/stdout",
                            "required": ["language", "source"],
                            "properties": {
                                "language": {"type": "string"},
                                "source": {"type": "string"},
                            },
                        },
                        "tests": {"type": "array", "items": {"type": "object"}},
                    },
                }
            },
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def find(
    session: Session, slug: str, *, with_tests: bool = False, viewer: User | bool | None = True
) -> Problem:
    """The problem; its tests' data only when asked for (an admin's read or export).

    ``viewer``: who asks. A draft is found for staff and admins only, and a deleted problem
    for nobody; ``True`` (the default) is the judge itself or an admin page. A problem the
    viewer may not see is "no problem", as one that does not exist: drafts must not leak."""
    query = select(Problem).where(Problem.slug == slug, Problem.deleted_at.is_(None))
    if with_tests:
        query = query.options(
            selectinload(Problem.tests).undefer(TestCase.input).undefer(TestCase.output)
        )
    problem = session.scalars(query).first()
    if problem is None or not may_open(session, problem, viewer):
        raise ApiError(404, f"no problem {slug!r}")
    return problem


def may_open(session: Session, problem: Problem, viewer: User | bool | None) -> bool:
    """Staff and admins open every problem. Anyone else: not a draft, and not a hidden one
    whose every problem set is still to start. A contest's problems are hidden until its
    start: opened by its slug (a guess away: "a", "contest1-a") they leaked the statement
    and took submissions graded on the hidden tests hours before the start."""
    if viewer is True or (isinstance(viewer, User) and reviews(viewer)):
        return True
    if problem.visibility == "draft":
        return False
    return problem.visibility != "hidden" or not _before_every_start(session, problem)


def _before_every_start(session: Session, problem: Problem) -> bool:
    """The problem is in some problem sets, and none of them has started (no window counts
    as started)."""
    starts = session.scalars(
        select(ProblemSet.starts_at)
        .join(ProblemSetProblem, ProblemSetProblem.set_id == ProblemSet.id)
        .where(ProblemSetProblem.problem_id == problem.id)
    ).all()
    now = utcnow()
    return bool(starts) and all(start is not None and start > now for start in starts)


def listed(viewer: User | None) -> ColumnElement[bool]:
    """The problems a listing shows: public ones, and to staff and admins every one that is
    not deleted (hidden ones are reached by their link, or through a problem set)."""
    alive = Problem.deleted_at.is_(None)
    return alive if reviews(viewer) else and_(alive, Problem.visibility == "public")


def problem_out(p: Problem, *, with_tests: bool) -> ProblemOut:
    return ProblemOut(
        **ProblemSummary.of(p).model_dump(),
        statement=p.statement,
        checker_type=str(p.checker.get("type", "tokens")),
        interactive=p.interactor is not None,
        tests_detail=store.problem_to_dict(p)["tests"] if with_tests else None,
    )


@router.get("", response_model=list[ProblemSummary], summary="All problems")
def list_problems(session: DB, user: MaybeUser) -> list[ProblemSummary]:
    rows = session.scalars(select(Problem).where(listed(user)).order_by(Problem.slug))
    return [ProblemSummary.of(p) for p in rows]


@router.get("/{slug}", response_model=ProblemOut, responses=_ERRORS, summary="One problem")
def get_problem(slug: str, session: DB, user: MaybeUser) -> ProblemOut:
    admin = bool(user and user.is_admin)
    return problem_out(find(session, slug, with_tests=admin, viewer=user), with_tests=admin)


@router.post(
    "",
    status_code=201,
    response_model=ProblemOut,
    responses=_ERRORS,
    openapi_extra=_PROBLEM_BODY,
    summary="Create or replace a problem (JSON, or a zip with problem.json and tests/N.in|out)",
)
async def create_problem(request: Request, admin: AdminUser) -> ProblemOut:
    state = app_state(request)
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/zip", "application/x-zip-compressed", "application/octet-stream"):
        data = await run_in_threadpool(problem_io.problem_from_zip, body)
    else:
        # A thread: parsing 64 MiB of JSON takes the event loop (every request) for seconds.
        data = await run_in_threadpool(problem_io.parse_json, body)

    def save() -> ProblemOut:
        with state.sessions() as session:
            problem = problem_io.save_problem(session, data)
            session.commit()
            # Not the tests: a 500 MiB upload must not come back in the response (issue 14).
            return problem_out(problem, with_tests=False)

    return await run_in_threadpool(save)


@router.post(
    "/import",
    status_code=201,
    response_model=ProblemOut,
    responses=error_responses(400, 401, 403, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            # application/zip is taken too; listed as octet-stream so OpenAPI clients (and
            # the schemathesis fuzzer) know how to send bytes.
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["archive"],
                        "properties": {"archive": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
    summary="Import a problem package (ICPC, Polygon or ours) from a zip",
)
async def import_package(
    request: Request, admin: AdminUser, replace: bool = False
) -> ProblemOut:
    """The zip is the body (``application/zip``) or the ``archive`` field of a multipart form.
    Its input validators run on every test before anything is written."""
    state = app_state(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("archive")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "multipart upload: the zip goes in the 'archive' field")
        body = await upload.read()
    else:
        body = await request.body()

    def save() -> ProblemOut:
        with state.sessions() as session:
            problem = problem_io.import_package(session, body, replace=replace)
            session.commit()
            return problem_out(problem, with_tests=False)

    return await run_in_threadpool(save)


@router.post(
    "/{slug}/rejudge",
    responses=_ERRORS,
    summary="Grade every submission of the problem again, as a batch (batch queue)",
)
def rejudge(slug: str, session: DB, admin: AdminUser) -> dict[str, Any]:
    """``{"requeued": [ids], "batch": id}``: follow it at ``GET /api/batches/{id}`` (``batch``
    is null when the problem has no submission to rejudge)."""
    batch_id, ids = batch_io.rejudge(session, slug, admin.id)
    return {"requeued": ids, "batch": batch_id}
