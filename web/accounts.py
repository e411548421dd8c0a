"""Web accounts: a name and a password per user, kept in the store's ``users.password_hash``."""

from __future__ import annotations

import functools
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import User
from web.security import hash_password, verify_password

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not anyone's password")


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why, for the form."""


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    end_sessions(user)  # a new password ends every session the old one opened
    session.flush()


def end_sessions(user: User) -> None:
    """Every session cookie of this user stops working (the caller commits)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def create_user(session: Session, name: str, password: str, *, admin: bool = False) -> User:
    # fullmatch: with match, "$" also matches before a final newline, and "admin\n" would be
    # a second admin look-alike.
    if not USER_NAME.fullmatch(name):
        raise AccountError("a name is 1-64 letters, digits, '.', '-' or '_'")
    # Unique regardless of case: "Admin" must not pass for "admin" (names are ASCII, so
    # lower() is casefold()).
    taken = select(User).where(func.lower(User.name) == name.lower())
    if session.scalars(taken).first() is not None:
        raise AccountError(f"the name {name!r} is taken")
    user = User(name=name, is_admin=admin)
    session.add(user)
    set_password(session, user, password)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user with this name and password, or None. Costs one scrypt either way."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None or user.password_hash is None:
        # One verify against a fixed hash, as a known name costs: the time of an answer must
        # not tell which names exist.
        verify_password(password, _dummy_hash())
        return None
    return user if verify_password(password, user.password_hash) else None
