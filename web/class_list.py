"""A class list as CSV: ``name[,display name[,password]]`` per line, a header line optional.

Parsed whole before anything is written, so a bad line refuses the list in one line naming it
and creates no one. A missing password is generated: the admin gets them back once, as CSV.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import User
from web import accounts

MAX_ROWS = 2000
_HEADER = ("name", "username", "login", "user")


@dataclass(frozen=True)
class Entry:
    name: str
    display_name: str
    password: str
    generated: bool


def one_time_password() -> str:
    # 12 characters from a 54-letter alphabet without look-alikes (0/O, 1/l/I): ~69 bits, and
    # readable off a sheet of paper handed to a student.
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def parse(text: str) -> list[Entry]:
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if rows and rows[0] and rows[0][0].strip().lower() in _HEADER:
        rows = rows[1:]
    if not rows:
        raise accounts.AccountError("the class list is empty")
    if len(rows) > MAX_ROWS:
        raise accounts.AccountError(f"at most {MAX_ROWS} users at once")
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        cells = [c.strip() for c in row] + ["", ""]
        name, display, password = cells[0], cells[1][:200], cells[2]
        where = f"line {number} ({name or 'no name'})"
        if not accounts.USER_NAME.fullmatch(name):
            raise accounts.AccountError(f"{where}: a name is 1-64 letters, digits, '.', '-' or '_'")
        if name.lower() in seen:
            raise accounts.AccountError(f"{where}: the name appears twice in the list")
        seen.add(name.lower())
        if password and len(password) < accounts.MIN_PASSWORD:
            raise accounts.AccountError(
                f"{where}: a password needs at least {accounts.MIN_PASSWORD} characters"
            )
        entries.append(Entry(name, display, password or one_time_password(), not password))
    return entries


def create_all(session: Session, entries: list[Entry]) -> None:
    """Every user of the list, or none (the caller commits): a name already taken refuses it."""
    lowered = [e.name.lower() for e in entries]
    taken = session.scalars(select(User.name).where(func.lower(User.name).in_(lowered))).all()
    if taken:
        raise accounts.AccountError(f"already taken: {', '.join(sorted(taken)[:10])}")
    for e in entries:
        user = accounts.create_user(session, e.name, e.password)
        user.display_name = e.display_name


def passwords_csv(entries: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "display_name", "password"])
    for e in entries:
        writer.writerow([e.name, e.display_name, e.password if e.generated else "(as given)"])
    return out.getvalue()
