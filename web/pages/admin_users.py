"""Admin pages of accounts: a searchable list, a class list imported from CSV, password
resets, disabling, the staff role, and one student's submissions and scores."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from starlette.datastructures import UploadFile

from store import Problem, Submission, User
from web import accounts, class_list
from web.deps import DB, AdminUser, RowId, app_state
from web.errors import ApiError
from web.pages.render import checked_form, redirect, render

router = APIRouter(prefix="/admin/users", include_in_schema=False)
MAX_LISTED = 500


def _users_page(
    request: Request, session: DB, admin: User, *, q: str = "", notice: str | None = None,
    error: str | None = None, typed: str = "", status: int = 200,
) -> Response:  # fmt: skip
    query = select(User).order_by(User.name).limit(MAX_LISTED)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(User.name).like(like),
                                func.lower(User.display_name).like(like)))  # fmt: skip
    counts = dict(
        session.execute(select(Submission.user_id, func.count()).group_by(Submission.user_id)).all()
    )
    ctx = {"users": session.scalars(query).all(), "q": q, "counts": counts, "notice": notice,
           "error": error, "typed": typed}  # fmt: skip
    return render(request, "admin/users.html", ctx, user=admin, status=status)


@router.get("")
def users(request: Request, session: DB, admin: AdminUser, q: str = "") -> Response:
    return _users_page(request, session, admin, q=q.strip()[:100])


@router.post("/import")
async def import_class_list(request: Request, admin: AdminUser) -> Response:
    """Every user of the list or none; back comes a CSV of the passwords, shown this once."""
    state = app_state(request)
    form = await checked_form(request, max_files=1, max_part_size=1 << 20)
    text = str(form.get("list", "") or "")
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        text = (await upload.read(1 << 20)).decode("utf-8-sig", "replace")

    def create() -> list[class_list.Entry]:
        entries = class_list.parse(text)
        with state.sessions() as session:
            class_list.create_all(session, entries)
            session.commit()
        return entries

    try:
        entries = await run_in_threadpool(create)
    except accounts.AccountError as e:
        with state.sessions() as session:
            return _users_page(request, session, admin, error=str(e), typed=text, status=422)
    return Response(
        class_list.passwords_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="passwords.csv"',
                 "Cache-Control": "no-store"},
    )


def _user(session: DB, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ApiError(404, "no such user")
    return user


@router.post("/{user_id}/password")
async def reset_password(request: Request, user_id: RowId, session: DB, admin: AdminUser) -> Response:
    """A new one-time password, shown to the admin once; every session of the user ends."""
    await checked_form(request)
    user = _user(session, user_id)
    password = class_list.one_time_password()
    await run_in_threadpool(accounts.set_password, session, user, password)
    session.commit()
    return _users_page(request, session, admin, q=user.name,
                       notice=f"New password for {user.name}: {password}")  # fmt: skip


@router.post("/{user_id}/disabled")
async def set_disabled(request: Request, user_id: RowId, session: DB, admin: AdminUser) -> Response:
    form = await checked_form(request)
    user = _user(session, user_id)
    if user.id == admin.id:
        raise ApiError(422, "you cannot disable your own account")
    user.disabled = form.get("disabled") == "on"
    if user.disabled:
        accounts.end_sessions(user)  # and web.deps refuses its tokens
    session.commit()
    return redirect(f"/admin/users?q={user.name}")


@router.post("/{user_id}/staff")
async def set_staff(request: Request, user_id: RowId, session: DB, admin: AdminUser) -> Response:
    form = await checked_form(request)
    user = _user(session, user_id)
    user.is_staff = form.get("staff") == "on"
    session.commit()
    return redirect(f"/admin/users?q={user.name}")


@router.get("/{name}")
def user_page(request: Request, name: str, session: DB, admin: AdminUser) -> Response:
    """One student: every submission, and the best score per problem."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise ApiError(404, f"no user {name!r}")
    subs = session.scalars(
        select(Submission).where(Submission.user_id == user.id)
        .options(selectinload(Submission.problem)).order_by(Submission.id.desc()).limit(500)
    ).all()  # fmt: skip
    best = session.execute(
        select(Problem.slug, Problem.title, func.max(Submission.score), Problem.max_score,
               func.count(Submission.id))
        .join(Submission, Submission.problem_id == Problem.id)
        .where(Submission.user_id == user.id)
        .group_by(Problem.id, Problem.slug, Problem.title, Problem.max_score)
        .order_by(Problem.slug)
    ).all()  # fmt: skip
    ctx = {"person": user, "subs": subs, "best": best}
    return render(request, "admin/user.html", ctx, user=admin)
