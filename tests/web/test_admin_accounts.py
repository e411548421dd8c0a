"""Accounts administered from the web (issue 18): a class list from CSV, password resets,
disabling, the staff role, a student's page, and the token form that never creates silently."""

from __future__ import annotations

import csv
import io
import sys
from typing import Any

import httpx

stack_module = sys.modules["web_test_stack"]
pages = sys.modules.get("test_pages") or __import__("test_pages")
csrf_of, login, PASSWORD = pages.csrf_of, pages.login, stack_module.PASSWORD


def _admin(stack: Any) -> Any:
    stack_module.ensure_admin(stack, "tess")
    return login(stack, "tess")


def test_a_class_list_makes_every_account_or_none(stack: Any) -> None:
    with _admin(stack) as c:
        page = c.get("/admin/users").text
        # A bad line (line 3): nothing is created, the form comes back with what was typed.
        bad = "name,display\nstu1,Stu One\nst u2,Stu Two\n"
        r = c.post("/admin/users/import", data={"csrf": csrf_of(page), "list": bad})
        assert r.status_code == 422 and "line 2 (st u2)" in r.text, r.text
        assert "Stu One" in r.text  # the typed list is kept
        assert "/admin/users/stu1" not in c.get("/admin/users?q=stu1").text
        # A good list: one CSV of passwords back, generated where none was given.
        good = "stu1,Stu One\nstu2,Stu Two,given-password-2\nstu3\n"
        r = c.post("/admin/users/import", data={"csrf": csrf_of(page), "list": good})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["cache-control"] == "no-store"
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["name"] for row in rows] == ["stu1", "stu2", "stu3"]
        assert rows[1]["password"] == "(as given)" and len(rows[0]["password"]) == 12
        # A name already taken refuses the whole list.
        r = c.post("/admin/users/import", data={"csrf": csrf_of(page), "list": "stu4\nSTU1\n"})
        assert r.status_code == 422 and "already taken: stu1" in r.text
        assert "/admin/users/stu4" not in c.get("/admin/users?q=stu4").text
    with login(stack, "stu1", rows[0]["password"]) as student:
        assert "stu1" in student.get("/").text
    with login(stack, "stu2", "given-password-2"):
        pass


def test_reset_disable_and_staff(stack: Any) -> None:
    with _admin(stack) as c:
        page = c.get("/admin/users").text
        c.post("/admin/users/import", data={"csrf": csrf_of(page), "list": f"dora,,{PASSWORD}\n"})
        page = c.get("/admin/users?q=dora").text
        user_id = int(pages.re.search(r'/admin/users/(\d+)/password', page)[1])
    with login(stack, "dora") as dora:
        # Reset: the old password and the old session both end; the new one works.
        with _admin(stack) as c:
            r = c.post(f"/admin/users/{user_id}/password",
                       data={"csrf": csrf_of(c.get("/admin/users").text)})  # fmt: skip
            new = pages.re.search(r"New password for dora: (\S+)</p>", r.text)[1]
        assert dora.get("/submissions", follow_redirects=False).status_code == 303  # logged out
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        r = c.post("/login", data={"csrf": csrf_of(c.get("/login").text), "name": "dora",
                                   "password": PASSWORD})  # fmt: skip
        assert r.status_code == 401
    with login(stack, "dora", new) as dora, _admin(stack) as admin:
        # Staff: every submission and the status page, but nothing to administer.
        r = admin.post(f"/admin/users/{user_id}/staff",
                       data={"csrf": csrf_of(admin.get("/admin/users").text), "staff": "on"})  # fmt: skip
        assert r.status_code == 303
        with stack.client("alice") as api:
            sid = api.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                                     "source": "print(1)"}).json()["id"]  # fmt: skip
        assert dora.get(f"/submissions/{sid}").status_code == 200
        assert "Status" in dora.get("/").text and dora.get("/status?user=alice").status_code == 200
        assert f"/submissions/{sid}" in dora.get("/status?user=alice&problem=aplusb").text
        assert dora.get("/admin", follow_redirects=False).status_code == 403
        # Disabled: the session ends at once, login says why, and tokens stop working.
        r = admin.post(f"/admin/users/{user_id}/disabled",
                       data={"csrf": csrf_of(admin.get("/admin/users").text), "disabled": "on"})  # fmt: skip
        assert r.status_code == 303
        assert dora.get("/status", follow_redirects=False).status_code in (303, 401)
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        r = c.post("/login", data={"csrf": csrf_of(c.get("/login").text), "name": "dora",
                                   "password": new})  # fmt: skip
        assert r.status_code == 403 and "this account is disabled" in r.text
    with stack.client("admin") as api:
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        import store

        engine = create_engine(stack.db_url)
        with Session(engine) as s:
            token = store.create_token(s, "dora")
            s.commit()
        engine.dispose()
        r = httpx.get(f"{stack.url}/api/submissions", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and "disabled" in r.text
        assert api.get("/api/submissions").status_code == 200


def test_a_students_page_shows_scores_and_submissions(stack: Any) -> None:
    with stack.client("bob") as api:
        sid = api.post("/api/submissions?wait=true", json={
            "problem": "aplusb", "language": "python3",
            "source": "a, b = map(int, input().split())\nprint(a + b)\n"}).json()["id"]  # fmt: skip
    stack_module.wait_done(stack.client("bob"), sid)
    with _admin(stack) as c:
        page = c.get("/admin/users/bob").text
        assert f"/submissions/{sid}" in page and 'id="scores"' in page and "A+B" in page
        assert c.get("/admin/users/nobody-here").status_code == 404
        assert "/admin/users/bob" in c.get("/admin/users?q=bo").text


def test_the_token_form_never_creates_an_account_silently(stack: Any) -> None:
    with _admin(stack) as c:
        page = c.get("/admin/tokens").text
        r = c.post("/admin/tokens", data={"csrf": csrf_of(page), "name": "ghost-user"})
        assert r.status_code == 422 and "create the account" in r.text
        assert "/admin/users/ghost-user" not in c.get("/admin/users?q=ghost").text
