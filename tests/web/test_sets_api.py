"""Problem sets against a real stack (web server, Celery worker, sandbox): create, see, submit
through the window, ICPC penalties, late and refused submissions, the gradebook, the form."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import store

stack_module = sys.modules["web_test_stack"]
AB = "a, b = map(int, input().split())\nprint(a + b)\n"
AB_WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
NOT_C = "int main( { return 0; }\n"


def tokens(stack: Any, *names: str) -> None:
    """API tokens for these users, made once per stack."""
    engine = create_engine(stack.db_url)
    try:
        with Session(engine) as s:
            for name in names:
                if name not in stack.tokens:
                    stack.tokens[name] = store.create_token(s, name)
            s.commit()
    finally:
        engine.dispose()


def iso(t: datetime) -> str:
    return t.isoformat()


def make_set(stack: Any, **fields: Any) -> dict[str, Any]:
    with stack.client("admin") as c:
        r = c.post("/api/sets", json={"problems": ["aplusb", "primes"], **fields})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body


def submit(stack: Any, who: str, set_slug: str, source: str, language: str = "python3",
           problem: str = "aplusb") -> dict[str, Any]:  # fmt: skip
    with stack.client(who) as c:
        r = c.post(f"/api/sets/{set_slug}/submissions",
                   json={"problem": problem, "language": language, "source": source})  # fmt: skip
        assert r.status_code == 202, r.text
        return stack_module.wait_done(c, r.json()["id"])  # type: ignore[no-any-return]


def test_icpc_set_counts_members_attempts_with_penalty_and_hides_from_others(stack: Any) -> None:
    tokens(stack, "sa_ann", "sa_ben", "sa_out")
    start = datetime.now(UTC) - timedelta(minutes=10)
    made = make_set(stack, slug="api-icpc", title="API contest", style="icpc",
                    starts_at=iso(start), ends_at=iso(start + timedelta(hours=2)),
                    members=["sa_ann", "sa_ben"])  # fmt: skip
    assert made["open"] and not made["ended"] and made["members"] == ["sa_ann", "sa_ben"]

    assert submit(stack, "sa_ann", "api-icpc", AB_WRONG)["verdict"] == "WA"
    assert submit(stack, "sa_ann", "api-icpc", NOT_C, language="c")["verdict"] == "CE"
    assert submit(stack, "sa_ann", "api-icpc", AB)["verdict"] == "AC"
    assert submit(stack, "sa_ben", "api-icpc", AB)["verdict"] == "AC"

    with stack.client("sa_ann") as c:
        s = c.get("/api/sets/api-icpc/standings").json()
        assert [p["slug"] for p in s["problems"]] == ["aplusb", "primes"]
        rows = {r["user"]: r for r in s["rows"]}
        ann, ben = rows["sa_ann"], rows["sa_ben"]
        minute = ann["cells"][0]["minute"]
        assert minute >= 10 and ann["cells"][0]["tries"] == 1  # the CE cost nothing
        assert (ann["total"], ann["penalty"], ann["cells"][0]["text"]) == (1, minute + 20, "+1")
        assert (ben["total"], ben["rank"], ann["rank"]) == (1, 1, 2)
        assert ben["cells"][1] == {**ben["cells"][1], "text": "", "kind": "none", "attempts": 0}
        assert c.get("/api/sets/api-icpc/standings.csv").status_code == 403
        assert "api-icpc" in [x["slug"] for x in c.get("/api/sets").json()]
    with stack.client("sa_out") as c:  # not a member: the set does not exist for them
        assert c.get("/api/sets/api-icpc").status_code == 404
        assert c.get("/api/sets/api-icpc/standings").status_code == 404
        assert "api-icpc" not in [x["slug"] for x in c.get("/api/sets").json()]
        r = c.post("/api/sets/api-icpc/submissions",
                   json={"problem": "aplusb", "language": "python3", "source": AB})  # fmt: skip
        assert r.status_code == 404
    with stack.client("admin") as c:
        book = list(csv.reader(io.StringIO(c.get("/api/sets/api-icpc/standings.csv").text)))
    assert book[0] == ["rank", "user", "aplusb", "primes", "total", "penalty"]
    assert book[1][:5] == ["1", "sa_ben", "1", "0", "1"]
    assert book[2] == ["2", "sa_ann", "1", "0", "1", str(minute + 20)]


def test_before_the_start_members_see_no_problems_and_cannot_submit(stack: Any) -> None:
    tokens(stack, "sa_ann")
    later = datetime.now(UTC) + timedelta(hours=1)
    make_set(stack, slug="api-later", title="Later", starts_at=iso(later), everyone=True)
    with stack.client("sa_ann") as c:
        body = c.get("/api/sets/api-later").json()
        assert body["open"] is False and body["problems"] == []
        s = c.get("/api/sets/api-later/standings").json()
        assert (s["open"], s["problems"], s["rows"]) == (False, [], [])
        r = c.post("/api/sets/api-later/submissions",
                   json={"problem": "aplusb", "language": "python3", "source": AB})  # fmt: skip
        assert r.status_code == 403 and "opens at" in r.json()["detail"]
    with httpx.Client(base_url=stack.url) as anonymous:  # everyone-sets are public
        assert anonymous.get("/api/sets/api-later").json()["problems"] == []
        page = anonymous.get("/sets/api-later").text
        assert "opens at" in page and "/problems/aplusb" not in page
    with stack.client("admin") as c:
        assert [p["slug"] for p in c.get("/api/sets/api-later").json()["problems"]] == [
            "aplusb", "primes"]  # fmt: skip



def test_a_hidden_problem_of_a_set_not_started_is_no_problem_even_by_its_slug(stack: Any) -> None:
    # A contest's problem is hidden until the start; its slug is a guess away ("a").
    tokens(stack, "sa_eve")
    with stack.client("admin") as c:
        r = c.post("/api/problems", json={
            "slug": "api-secret", "title": "Secret", "statement": "S!",
            "tests": [{"input": "1 2\n", "output": "3\n"}]})  # fmt: skip
        assert r.status_code == 201, r.text
    engine = create_engine(stack.db_url)  # (the admin page's visibility form, in one line)
    with Session(engine) as s:
        s.query(store.Problem).filter_by(slug="api-secret").update({"visibility": "hidden"})
        s.commit()
    engine.dispose()
    later = datetime.now(UTC) + timedelta(hours=1)
    make_set(stack, slug="api-soon", title="Soon", starts_at=iso(later), everyone=True,
             problems=["api-secret"])  # fmt: skip
    html = {"Accept": "text/html"}
    for who in (None, "sa_eve"):
        with stack.client(who) as c:
            assert c.get("/api/problems/api-secret").status_code == 404
            assert c.get("/problems/api-secret", headers=html).status_code == 404
            if who:
                r = c.post("/api/submissions", json={
                    "problem": "api-secret", "language": "python3", "source": AB})  # fmt: skip
                assert r.status_code == 404, r.text
    with stack.client("admin") as c:
        assert c.get("/api/problems/api-secret").json()["statement"] == "S!"
    # Once one of its sets has started, its link opens it again, as hidden problems open.
    make_set(stack, slug="api-begun", title="Begun", problems=["api-secret"],
             starts_at=iso(datetime.now(UTC) - timedelta(minutes=1)))  # fmt: skip
    with stack.client("sa_eve") as c:
        assert c.get("/api/problems/api-secret").json()["statement"] == "S!"

def test_after_the_end_late_or_refused_as_the_set_says(stack: Any) -> None:
    tokens(stack, "sa_ann")
    start = datetime.now(UTC) - timedelta(hours=2)
    window = {"starts_at": iso(start), "ends_at": iso(start + timedelta(hours=1)),
              "members": ["sa_ann"]}  # fmt: skip
    make_set(stack, slug="api-late", title="Late ok", late_policy="late", **window)
    make_set(stack, slug="api-shut", title="Shut", late_policy="refuse", **window)

    late = submit(stack, "sa_ann", "api-late", AB)
    assert late["verdict"] == "AC"  # graded all the same
    with stack.client("sa_ann") as c:
        s = c.get("/api/sets/api-late/standings").json()
        cell = s["rows"][0]["cells"][0]
        assert (cell["late"], cell["solved"], cell["score"], s["rows"][0]["total"]) == (
            1, False, None, 0)  # fmt: skip
        assert cell["note"] == "1 late" and s["ended"] and s["final"]
        r = c.post("/api/sets/api-shut/submissions",
                   json={"problem": "aplusb", "language": "python3", "source": AB})  # fmt: skip
        assert r.status_code == 403 and "no more submissions" in r.json()["detail"]
        # A submission through no set after the end is practice: neither late nor counted.
        r = c.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                             "source": AB}, params={"wait": "true"})  # fmt: skip
        assert r.json()["verdict"] == "AC"
        cell = c.get("/api/sets/api-late/standings").json()["rows"][0]["cells"][0]
        assert cell["late"] == 1
    with teacher_session(stack) as c:  # the submission page says it is late
        page = c.get(f"/submissions/{late['id']}").text
        assert 'id="late"' in page and "Late ok" in page


@contextlib.contextmanager
def teacher_session(stack: Any) -> Iterator[httpx.Client]:
    """An admin's browser session (admins see every submission page)."""
    stack_module.ensure_admin(stack, "sa_teacher")
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"csrf": token, "name": "sa_teacher",
                                   "password": stack_module.PASSWORD, "next": "/"})  # fmt: skip
        assert r.status_code == 303
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m
    return m.group(1)


def test_bad_sets_are_refused_with_one_clear_line(stack: Any) -> None:
    with stack.client("admin") as c:
        r = c.post("/api/sets", json={"slug": "api-bad", "title": "Bad", "problems": ["nope"]})
        assert (r.status_code, r.json()["detail"]) == (422, "no problem 'nope'")
        now = datetime.now(UTC)
        r = c.post("/api/sets", json={"slug": "api-bad", "title": "Bad", "problems": ["aplusb"],
                                      "starts_at": iso(now), "ends_at": iso(now)})  # fmt: skip
        assert r.status_code == 422 and r.json()["detail"].startswith("end:")
        r = c.post("/api/sets", json={"slug": "api-bad", "title": "B", "problems": ["aplusb"],
                                      "starts_at": "2026-12-01T10:00:00"})  # fmt: skip
        assert r.status_code == 422  # a time without a zone is ambiguous
        r = c.put("/api/sets/api-none", json={"slug": "api-none", "title": "X",
                                              "problems": ["aplusb"]})  # fmt: skip
        assert r.status_code == 404
        assert c.get("/api/sets/api-bad").status_code == 404  # nothing half-made
    with stack.client("alice") as c:
        r = c.post("/api/sets", json={"slug": "api-x", "title": "X", "problems": ["aplusb"]})
        assert r.status_code == 403


def test_admin_form_keeps_input_on_error_then_saves_and_edits(stack: Any) -> None:
    tokens(stack, "sa_ann")
    with teacher_session(stack) as c:
        page = c.get("/admin/sets/new").text
        form = {"csrf": csrf_of(page), "slug": "form-set", "title": "Form <set>",
                "problems": "aplusb\nnosuch", "starts_at": "", "ends_at": "",
                "style": "icpc", "late_policy": "refuse", "freeze_minutes": "0",
                "members": "sa_ann"}  # fmt: skip
        r = c.post("/admin/sets", data=form)
        assert r.status_code == 422 and "no problem &#39;nosuch&#39;" in r.text
        assert 'name="problems" rows="4" class="short" spellcheck="false" aria-invalid="true"' in r.text
        assert "Form &lt;set&gt;" in r.text and "aplusb\nnosuch</textarea>" in r.text
        assert '<option value="refuse" selected>' in r.text
        r = c.post("/admin/sets", data={**form, "problems": "primes aplusb",
                                        "ends_at": "2030-01-01T00:00:00"})  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/sets/form-set"
        edit = c.get("/admin/sets/form-set/edit").text
        assert "primes\naplusb</textarea>" in edit and 'value="2030-01-01T00:00:00"' in edit
        r = c.post("/admin/sets", data={**form, "csrf": csrf_of(edit), "original_slug": "form-set",
                                        "problems": "aplusb", "title": "Renamed"})  # fmt: skip
        assert r.status_code == 303
    with stack.client("sa_ann") as c:
        body = c.get("/api/sets/form-set").json()
        assert (body["title"], body["style"], body["late_policy"]) == ("Renamed", "icpc", "refuse")
        assert [p["slug"] for p in body["problems"]] == ["aplusb"] and body["ends_at"] is None
    with teacher_session(stack) as c:
        edit = c.get("/admin/sets/form-set/edit").text
        r = c.post("/admin/sets/form-set/delete", data={"csrf": csrf_of(edit)})
        assert r.status_code == 303 and r.headers["location"] == "/sets"
        assert c.get("/sets/form-set").status_code == 404
    with stack.client("admin") as c:
        make_set(stack, slug="api-gone", title="Gone")
        assert c.delete("/api/sets/api-gone").status_code == 204
        assert c.get("/api/sets/api-gone").status_code == 404
        assert c.delete("/api/sets/api-gone").status_code == 404


def test_during_the_freeze_members_see_pending_and_admins_see_through(stack: Any) -> None:
    tokens(stack, "sa_fay")  # never submitted before: every attempt in the window counts
    start = datetime.now(UTC) - timedelta(minutes=30)
    make_set(stack, slug="api-frozen", title="Frozen", style="icpc", starts_at=iso(start),
             ends_at=iso(start + timedelta(hours=1)), freeze_minutes=45, members=["sa_fay"])
    assert submit(stack, "sa_fay", "api-frozen", AB)["verdict"] == "AC"
    with stack.client("sa_fay") as c:
        s = c.get("/api/sets/api-frozen/standings").json()
        cell = s["rows"][0]["cells"][0]
        assert s["frozen"] and (cell["solved"], cell["pending"], cell["note"]) == (
            False, 1, "1 pending")  # fmt: skip
        page = c.get("/sets/api-frozen").text
        assert '<p class="notice" id="frozen">The standings are frozen' in page
    with stack.client("admin") as c:
        s = c.get("/api/sets/api-frozen/standings").json()
        assert not s["frozen"] and s["rows"][0]["cells"][0]["solved"]
        page = c.get("/sets/api-frozen").text
        assert 'id="freeze-admin"' in page and '<p class="notice" id="frozen" hidden>' in page
        assert c.get("/api/sets/api-frozen/standings.csv").text.splitlines()[1].startswith(
            "1,sa_fay,1,0,1,")  # fmt: skip
