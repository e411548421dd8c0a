"""Request-scoped dependencies: the database session and who is asking.

Who is asking comes from a bearer token (programs) or the signed session cookie (the browser).
A cookie alone never authorises a state-changing API call: those also need the page's CSRF
token in ``X-CSRF-Token``, so another site cannot make a logged-in browser submit for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from store import User
from store.models import ApiToken
from store.tokens import hash_token
from web.config import Settings
from web.errors import ApiError
from web.fairness import Fairness
from web.login_guard import LoginGuard
from web.ratelimit import RateLimiter
from web.security import SessionData, Signer
from web.token_use import TokenUse

log = logging.getLogger("web")

SESSION_COOKIE = "judge_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    signer: Signer
    limiter: RateLimiter
    fairness: Fairness
    login_guard: LoginGuard
    token_use: TokenUse | None = None


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.judge
    return state


def db(request: Request) -> Iterator[Session]:
    session = app_state(request).sessions()
    try:
        yield session
    finally:
        _close(session)


def _close(session: Session) -> None:
    """Close without raising: this runs after the response may have started, where an error
    can no longer be answered and makes the server drop the connection. A database that went
    away since the request's last query fails the closing ROLLBACK; the connection is then
    discarded instead of returned to the pool."""
    try:
        session.close()
    except DBAPIError as e:
        log.warning("closing a database session failed (connection discarded): %s", e.orig)
        session.invalidate()


DB = Annotated[Session, Depends(db)]


def browser_session(request: Request) -> SessionData | None:
    return app_state(request).signer.loads(request.cookies.get(SESSION_COOKIE))


def current_user(request: Request, session: DB) -> User | None:
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "use 'Authorization: Bearer <token>'")
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
        ).first()
        if row is None:
            raise ApiError(401, "unknown or revoked token")
        owner = row.user
        if owner.disabled:
            raise ApiError(401, "this account is disabled")
        request.state.token_id = row.id  # whose webhook secret signs this request's callbacks
        # A read: it must work while the database cannot be written. The last-use time is
        # written apart (web.token_use), at most once a minute, never failing this request.
        session.commit()  # ends the read transaction (see below)
        state = app_state(request)
        if state.token_use is not None:
            state.token_use.used(row.id)
        return owner
    data = browser_session(request)
    if data is None or data.user_id is None:
        return None
    if request.url.path.startswith("/api") and request.method not in SAFE_METHODS:
        signer = app_state(request).signer
        if not signer.check_csrf(data, request.headers.get("x-csrf-token")):
            raise ApiError(403, "a browser session needs the page's X-CSRF-Token header here")
    user = session.get(User, data.user_id)
    if user is not None and (user.session_epoch != data.epoch or user.disabled):
        user = None  # logged out (everywhere) since this cookie was issued, or disabled
    # End the read transaction: a ?wait=true request must not hold a pooled connection while
    # it sleeps. The user object stays usable (the session factory does not expire on commit).
    session.commit()
    return user


MaybeUser = Annotated[User | None, Depends(current_user)]


def require_user(user: MaybeUser) -> User:
    if user is None:
        raise ApiError(401, "log in or send 'Authorization: Bearer <token>'")
    return user


def reviews(user: User | None) -> bool:
    """Admins and course staff see every submission and all of its details."""
    return user is not None and (user.is_admin or user.is_staff)


def require_staff(user: Annotated[User, Depends(require_user)]) -> User:
    if not reviews(user):
        raise ApiError(403, "only staff and admins may see this")
    return user


def require_admin(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_admin:
        raise ApiError(403, "only admins may do this")
    return user


CurrentUser = Annotated[User, Depends(require_user)]
#: A row id in a path. Bounded to the 32-bit INTEGER columns hold: a larger number must be a 422,
#: not a driver overflow (a 500).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AdminUser = Annotated[User, Depends(require_admin)]
StaffUser = Annotated[User, Depends(require_staff)]
