"""Logging out ends the session, copies of its cookie included (issue 14, finding 5): the
cookie carries the user's session epoch, which logout, a new password or an admin raise."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import store
from web import accounts

PASSWORD = "correct horse battery"


def _csrf(c: httpx.Client, path: str = "/") -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', c.get(path).text)
    assert m
    return m.group(1)


@contextlib.contextmanager
def _browser(stack: Any, name: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30, headers={"Accept": "text/html"}) as c:
        r = c.post("/login", data={"csrf": _csrf(c, "/login"), "name": name,
                                   "password": PASSWORD})  # fmt: skip
        assert r.status_code == 303, r.text[:300]
        yield c


def _logged_in(c: httpx.Client) -> bool:
    r = c.get("/submissions")
    return r.status_code == 200  # else a 303 to /login


def _replay(stack: Any, cookie: str) -> httpx.Client:
    return httpx.Client(base_url=stack.url, timeout=30, headers={"Accept": "text/html"},
                        cookies={"judge_session": cookie})  # fmt: skip


def _user(stack: Any, name: str) -> int:
    engine = create_engine(stack.db_url)
    try:
        with Session(engine) as s:
            if s.scalars(select(store.User).where(store.User.name == name)).first() is None:
                accounts.create_user(s, name, PASSWORD)
                s.commit()
            user_id: int = s.scalars(select(store.User.id).where(store.User.name == name)).one()
            return user_id
    finally:
        engine.dispose()


def test_a_replayed_cookie_dies_with_logout(stack: Any) -> None:
    _user(stack, "gina")
    with _browser(stack, "gina") as browser, _browser(stack, "gina") as laptop:
        stolen = browser.cookies["judge_session"]
        with _replay(stack, stolen) as thief:
            assert _logged_in(browser) and _logged_in(laptop) and _logged_in(thief)
            r = browser.post("/logout", data={"csrf": _csrf(browser)})
            assert r.status_code == 303
            assert not _logged_in(browser)
            assert not _logged_in(thief)  # before: valid for 14 days after logout
            assert not _logged_in(laptop)  # "Log out" ends every session of the user
            # The API refuses the old cookie too (no session: 401).
            assert thief.get("/api/submissions").status_code == 401
        # Logging in again works, with a fresh cookie.
        with _browser(stack, "gina") as again:
            assert _logged_in(again) and again.cookies["judge_session"] != stolen


def test_an_admin_can_end_a_users_sessions(stack: Any) -> None:
    user_id = _user(stack, "hank")
    with _browser(stack, "hank") as hank, _browser(stack, "carol") as carol:
        assert _logged_in(hank)
        admin_id = _user(stack, "root-web")
        engine = create_engine(stack.db_url)
        with Session(engine) as s:
            s.get(store.User, admin_id).is_admin = True  # type: ignore[union-attr]
            s.commit()
        engine.dispose()
        with _browser(stack, "root-web") as admin:
            page = admin.get("/admin/tokens").text
            assert f"/admin/users/{user_id}/logout" in page
            r = admin.post(f"/admin/users/{user_id}/logout", data={"csrf": _csrf(admin)})
            assert r.status_code == 303
        assert not _logged_in(hank)
        assert _logged_in(carol)  # only hank's sessions ended
        # A non-admin cannot do it.
        r = carol.post(f"/admin/users/{user_id}/logout", data={"csrf": _csrf(carol)})
        assert r.status_code == 403


def test_a_new_password_ends_the_old_sessions(stack: Any) -> None:
    user_id = _user(stack, "ivy")
    with _browser(stack, "ivy") as ivy:
        assert _logged_in(ivy)
        engine = create_engine(stack.db_url)
        with Session(engine) as s:
            user = s.get(store.User, user_id)
            assert user is not None
            accounts.set_password(s, user, "another long password")
            s.commit()
        engine.dispose()
        assert not _logged_in(ivy)
