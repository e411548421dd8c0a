"""Admin pages: create and edit problems, upload tests, watch the queue, rejudge, tokens, batches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload
from starlette.datastructures import UploadFile

import store
from store import ApiToken, Problem, Submission, User
from store.vocab import IN_PROGRESS, Status
from web import accounts, batch_io, grading, problem_io
from web.api import batches as api_batches
from web.api.problems import find
from web.deps import DB, AdminUser, RowId, app_state
from web.errors import ApiError
from web.pages.render import checked_form, redirect, render
from worker import verify_runs
from worker.verify import VerifyError

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("")
def queue(request: Request, session: DB, admin: AdminUser) -> Response:
    active = session.scalars(
        select(Submission)
        .where(Submission.status.in_((Status.QUEUED, *IN_PROGRESS)))
        .options(selectinload(Submission.problem), selectinload(Submission.user))
        .order_by(Submission.id)
        .limit(500)
    ).all()
    recent = session.scalars(
        select(Submission)
        .options(selectinload(Submission.problem), selectinload(Submission.user))
        .order_by(Submission.id.desc())
        .limit(50)
    ).all()
    problems = session.scalars(
        select(Problem).where(Problem.deleted_at.is_(None)).order_by(Problem.slug)
    ).all()
    ctx = {"active": active, "recent": recent, "problems": problems}
    return render(request, "admin/queue.html", ctx, user=admin)


@router.post("/problems/{slug}/rejudge")
async def rejudge(request: Request, slug: str, session: DB, admin: AdminUser) -> Response:
    await checked_form(request)
    batch_id, _ = await run_in_threadpool(batch_io.rejudge, session, slug, admin.id)
    return redirect(f"/admin/batches/{batch_id}" if batch_id else "/admin")


@router.post("/problems/import")
async def import_package(request: Request, admin: AdminUser) -> Response:
    """A package zip from the admin page: the same checks as ``POST /api/problems/import``."""
    state = app_state(request)
    form = await checked_form(
        request, max_files=1, max_fields=5, max_part_size=state.settings.max_body_bytes
    )
    upload = form.get("archive")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ApiError(422, "choose a package zip to import")
    body = await upload.read()

    def save() -> tuple[str, bool]:
        with state.sessions() as session:
            problem = problem_io.import_package(session, body, replace=form.get("replace") == "on")
            session.commit()
            return problem.slug, bool(problem.submissions_shipped)

    slug, ships = await run_in_threadpool(save)
    # A package with its own submissions is checked next: the admin starts verify there.
    return redirect(f"/admin/problems/{slug}/verify" if ships else f"/problems/{slug}")


@router.get("/problems/{slug}/verify")
def verify_page(request: Request, slug: str, session: DB, admin: AdminUser) -> Response:
    problem = find(session, slug)
    batch_id = verify_runs.latest(session, slug)
    table = verify_runs.table(app_state(request).sessions, batch_id) if batch_id else None
    ctx = {"problem": problem, "table": table,
           "shipped": len(problem.submissions_shipped)}  # fmt: skip
    return render(request, "admin/verify.html", ctx, user=admin)


@router.post("/problems/{slug}/verify")
async def start_verify(request: Request, slug: str, session: DB, admin: AdminUser) -> Response:
    await checked_form(request)
    try:
        await run_in_threadpool(verify_runs.request, session, slug, admin.id)
        session.commit()
    except VerifyError as e:
        raise ApiError(404 if str(e).startswith("no problem") else 422, str(e)) from None
    from worker.celery_app import send_verify

    try:
        await run_in_threadpool(send_verify, slug)
    except Exception as e:
        raise ApiError(503, f"the queue is unreachable, try again: {e}",
                       headers={"Retry-After": "5"}) from None  # fmt: skip
    return redirect(f"/admin/problems/{slug}/verify")


@router.get("/batches")
def batches(request: Request, session: DB, admin: AdminUser) -> Response:
    ctx = {
        "batches": batch_io.recent(session),
        "problems": session.scalars(
            select(Problem).where(Problem.deleted_at.is_(None)).order_by(Problem.slug)
        ).all(),
        "languages": grading.languages(),
    }
    return render(request, "admin/batches.html", ctx, user=admin)


@router.post("/batches")
async def upload_batch(request: Request, admin: AdminUser) -> Response:
    await checked_form(request, max_files=1, max_fields=20)
    batch_id = await api_batches.create_from_form(app_state(request), request, admin.id)
    return redirect(f"/admin/batches/{batch_id}")


@router.get("/batches/{batch_id}")
def batch_page(request: Request, batch_id: RowId, session: DB, admin: AdminUser) -> Response:
    b = batch_io.out(session, batch_io.load(session, batch_id))
    return render(request, "admin/batch.html", {"b": b}, user=admin)


@router.post("/batches/{batch_id}/cancel")
async def cancel_batch(
    request: Request, batch_id: RowId, session: DB, admin: AdminUser
) -> Response:
    await checked_form(request)
    await run_in_threadpool(batch_io.cancel, session, batch_id)
    return redirect(f"/admin/batches/{batch_id}")


@router.get("/tokens")
def tokens(request: Request, session: DB, admin: AdminUser) -> Response:
    return _tokens_page(request, session, admin, new_token=None)


def _tokens_page(request: Request, session: DB, admin: User, new_token: str | None) -> Response:
    rows = session.scalars(
        select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id)
    ).all()
    users = session.scalars(select(User).order_by(User.name)).all()
    ctx = {"tokens": rows, "users": users, "new_token": new_token, "error": None}
    return render(request, "admin/tokens.html", ctx, user=admin)


@router.post("/tokens")
async def create_token(request: Request, session: DB, admin: AdminUser) -> Response:
    form = await checked_form(request)
    name = str(form.get("name", "")).strip()
    if not accounts.USER_NAME.fullmatch(name):
        raise ApiError(422, "a name is 1-64 letters, digits, '.', '-' or '_'")
    exists = session.scalars(select(User.id).where(User.name == name)).first() is not None
    if not exists and form.get("create_user") != "on":
        # Explicit, as `judge token create` is: a typo must not make a new account.
        raise ApiError(422, f"no user {name!r}: tick 'create the account' to make one")
    # A token has its user's role: it never promotes anyone (Users page: the roles).
    token = store.create_token(session, name)
    session.commit()
    # Shown once, on this response only: the database keeps just a hash.
    return _tokens_page(request, session, admin, new_token=token)


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, token_id: RowId, session: DB, admin: AdminUser
) -> Response:
    await checked_form(request)
    session.execute(delete(ApiToken).where(ApiToken.id == token_id))
    session.commit()
    return redirect("/admin/tokens")


@router.post("/users")
async def create_user(request: Request, session: DB, admin: AdminUser) -> Response:
    form = await checked_form(request)
    try:
        accounts.create_user(
            session,
            str(form.get("name", "")).strip(),
            str(form.get("password", "")),
            admin=form.get("admin") == "on",
        )
        session.commit()
    except accounts.AccountError as e:
        raise ApiError(422, str(e)) from None
    return redirect("/admin/tokens")


@router.post("/users/{user_id}/logout")
async def log_out_user(request: Request, user_id: RowId, session: DB, admin: AdminUser) -> Response:
    """End every browser session of a user (a stolen cookie, a shared computer)."""
    await checked_form(request)
    user = session.get(User, user_id)
    if user is None:
        raise ApiError(404, "no such user")
    accounts.end_sessions(user)
    session.commit()
    return redirect("/admin/tokens")


@router.post("/submissions/{submission_id}/rejudge")
async def rejudge_one(
    request: Request, submission_id: RowId, session: DB, admin: AdminUser
) -> Response:
    await checked_form(request)
    await run_in_threadpool(grading.rejudge, session, [submission_id])
    return redirect(f"/submissions/{submission_id}")
