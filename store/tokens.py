"""API tokens: ``judge token create NAME [--admin]`` and bearer authentication."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import ApiToken, User
from store.types import utcnow


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user_name: str, *, admin: bool = False) -> str:
    """Make a token for ``user_name`` (created if new; ``admin`` only ever grants) and return it.

    The ``judge token create`` command checks first that the user exists and is an admin
    when ``admin`` is asked, unless told otherwise (``--create-user``, ``--promote``).

    The plain token is returned once and never stored. The caller commits.
    """
    user = session.scalars(select(User).where(User.name == user_name)).one_or_none()
    if user is None:
        user = User(name=user_name, is_admin=admin)
        session.add(user)
    elif admin:
        user.is_admin = True
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, name=user_name, token_hash=hash_token(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The user a bearer token belongs to, or None; records the token's last use."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None:
        return None
    row.last_used_at = utcnow()
    return row.user
