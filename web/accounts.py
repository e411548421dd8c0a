"""Web accounts: a name and a password per user, kept in the store's ``users.password_hash``."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import User
from web.security import hash_password, verify_password

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why, for the form."""


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    session.flush()


def create_user(session: Session, name: str, password: str, *, admin: bool = False) -> User:
    if not USER_NAME.match(name):
        raise AccountError("a name is 1-64 letters, digits, '.', '-' or '_'")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise AccountError(f"the name {name!r} is taken")
    user = User(name=name, is_admin=admin)
    session.add(user)
    set_password(session, user, password)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user with this name and password, or None. Costs one scrypt either way."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None or user.password_hash is None:
        # Hash anyway so a wrong name takes as long as a wrong password.
        verify_password(password, hash_password("x" * MIN_PASSWORD))
        return None
    return user if verify_password(password, user.password_hash) else None
