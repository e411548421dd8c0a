"""Who is asking on ``/judge0``: Judge0's ``X-Auth-Token`` header, or our ``Authorization:
Bearer``, carrying one of our API tokens. Without either, 401, unless the admin turned
anonymous access on (``JUDGE_JUDGE0_ANONYMOUS``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import select

from store import User
from store.models import ApiToken
from store.tokens import hash_token
from web.deps import app_state


class Judge0Error(Exception):
    """Answer with this status and JSON body, in Judge0's shape (not the /api one)."""

    def __init__(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers


@dataclass(frozen=True)
class Caller:
    user_id: int | None  # None: anonymous
    admin: bool
    token_id: int | None = None  # whose webhook secret signs callbacks


def caller(request: Request) -> Caller:
    token = request.headers.get("x-auth-token", "").strip()
    if not token:
        scheme, _, rest = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = rest.strip()
    state = app_state(request)
    if not token:
        if state.settings.judge0_anonymous:
            return Caller(None, False)
        raise Judge0Error(401, {"error": "send an API token in X-Auth-Token"})
    with state.sessions() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
        if row is None:
            raise Judge0Error(401, {"error": "unknown or revoked token"})
        user: User = row.user
        if user.disabled:
            raise Judge0Error(401, {"error": "this account is disabled"})
        found = Caller(user.id, user.is_admin, row.id)
        token_id = row.id
    if state.token_use is not None:
        state.token_use.used(token_id)
    return found
