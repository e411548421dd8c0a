"""Log in, log out, sign up: password accounts for the browser."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from store import User
from web import accounts
from web.deps import DB, MaybeUser, app_state
from web.errors import ApiError
from web.pages.render import checked_form, redirect, render, set_session
from web.security import SessionData


def client_address(request: Request) -> str:
    # The peer's address: behind a reverse proxy that is the proxy's (a deployment there
    # should pass the client's via uvicorn's --forwarded-allow-ips).
    return request.client.host if request.client else "unknown"


def _safe_next(target: object) -> str:
    # Only local paths: a crafted ?next= must not bounce a fresh login to another site.
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request, user: MaybeUser, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None}, user=user)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = _safe_next(form.get("next"))
    state = app_state(request)
    guard, address = state.login_guard, client_address(request)
    guard.check_login(address, name)  # before any hashing: a refused attempt costs nothing

    def check() -> User | None:
        with guard.hashing(), state.sessions() as session:
            return accounts.authenticate(session, name, password)

    user = await run_in_threadpool(check)
    if user is None:
        guard.failed_login(address, name)
        ctx = {"next": target, "error": "wrong name or password", "name": name}
        return render(request, "login.html", ctx, status=401)
    if user.disabled:
        # Said only to someone who knows the password: it tells them nothing new.
        ctx = {"next": target, "error": "this account is disabled", "name": name}
        return render(request, "login.html", ctx, status=403)
    response = redirect(target)
    set_session(request, response, SessionData.new(user.id, user.session_epoch))
    return response


@router.post("/logout")
async def logout(request: Request, session: DB, user: MaybeUser) -> Response:
    await checked_form(request)
    if user is not None:
        # Not just this cookie: a copy of it (or any other session of the user) stops working
        # too, where a stateless cookie used to stay valid for its 14 days.
        accounts.end_sessions(user)
        session.commit()
    response = redirect("/")
    set_session(request, response, SessionData.new())
    return response


@router.get("/register")
def register_page(request: Request, user: MaybeUser) -> Response:
    if not app_state(request).settings.open_signup:
        raise ApiError(403, "sign-up is closed; ask an admin for an account")
    return render(request, "register.html", {"error": None}, user=user)


@router.post("/register")
async def register(request: Request, session: DB) -> Response:
    if not app_state(request).settings.open_signup:
        raise ApiError(403, "sign-up is closed; ask an admin for an account")
    form = await checked_form(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    state = app_state(request)
    state.login_guard.check_signup(client_address(request))

    def create() -> User:
        with state.login_guard.hashing():
            return accounts.create_user(session, name, password)

    try:
        user = await run_in_threadpool(create)
        session.commit()
    except (accounts.AccountError, IntegrityError) as e:
        # IntegrityError: someone took the name between the check and the insert.
        session.rollback()
        message = str(e) if isinstance(e, accounts.AccountError) else "that name was just taken"
        return render(request, "register.html", {"error": message, "name": name}, status=422)
    response = redirect("/")
    set_session(request, response, SessionData.new(user.id, user.session_epoch))
    return response
