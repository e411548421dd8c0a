"""Web accounts: a password per user, beside the store's ``users`` table.

``store`` has no password column yet, so the hashes live in a table of this package's own,
created on start if missing (``ensure_schema``). It only references ``users.id``; when the store
grows a ``password_hash`` column this module is the one place to change.
"""

from __future__ import annotations

import re

from sqlalchemy import Column, Engine, ForeignKey, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session

from store import User
from web.security import hash_password, verify_password

_metadata = MetaData()
passwords = Table(
    "web_passwords",
    _metadata,
    # The foreign key names the store's Column object, so this MetaData needs no copy of users.
    Column(
        "user_id", Integer, ForeignKey(User.__table__.c.id, ondelete="CASCADE"), primary_key=True
    ),
    Column("hash", String(200), nullable=False),
)
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why, for the form."""


def ensure_schema(engine: Engine) -> None:
    # The users table must exist already (store migrations ran); ours only hangs off it.
    _metadata.create_all(engine, tables=[passwords], checkfirst=True)


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    digest = hash_password(password)
    session.flush()  # the user needs its id
    if session.execute(select(passwords.c.user_id).where(passwords.c.user_id == user.id)).first():
        session.execute(
            passwords.update().where(passwords.c.user_id == user.id).values(hash=digest)
        )
    else:
        session.execute(passwords.insert().values(user_id=user.id, hash=digest))


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
    row = session.execute(
        select(User, passwords.c.hash)
        .join(passwords, passwords.c.user_id == User.id)
        .where(User.name == name)
    ).first()
    if row is None:
        # Hash anyway so a wrong name takes as long as a wrong password.
        verify_password(password, hash_password("x" * MIN_PASSWORD))
        return None
    user, stored = row
    return user if verify_password(password, stored) else None
