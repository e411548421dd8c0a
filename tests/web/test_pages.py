"""The HTML pages through a real browser-like client: cookies, CSRF, escaping, admin forms."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import time
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx

# Loaded by this directory's conftest (by file path: test directories are not packages).
stack_module = sys.modules["web_test_stack"]

PASSWORD = stack_module.PASSWORD


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


@contextlib.contextmanager
def login(stack: Any, name: str = "carol", password: str = PASSWORD) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=60, headers={"Accept": "text/html"}) as c:
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"csrf": token, "name": name, "password": password, "next": "/"})
        assert r.status_code == 303, r.text
        yield c


def test_problem_list_and_statement(stack: Any) -> None:
    with httpx.Client(base_url=stack.url) as c:
        page = c.get("/").text
        assert "A+B" in page and "/problems/maxsub" in page
        page = c.get("/problems/aplusb").text
        assert "<h2>Input</h2>" in page  # Markdown rendered
        assert "Log in</a> to submit" in page
        assert c.get("/problems/nope", headers={"Accept": "text/html"}).status_code == 404


def test_login_rejects_wrong_password_and_forged_forms(stack: Any) -> None:
    with httpx.Client(base_url=stack.url) as c:
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"csrf": token, "name": "carol", "password": "wrong one!"})
        assert r.status_code == 401 and "wrong name or password" in r.text
        r = c.post("/login", data={"csrf": "forged", "name": "carol", "password": PASSWORD})
        assert r.status_code == 403
    with login(stack) as c:
        # A cookie alone cannot change state through the API: the CSRF header is needed.
        r = c.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                             "source": "print(1)"})  # fmt: skip
        assert r.status_code == 403


def test_submit_form_and_live_submission_page(stack: Any) -> None:
    with login(stack) as c:
        page = c.get("/problems/aplusb").text
        assert 'name="language"' in page and 'type="file"' in page
        r = c.post("/problems/aplusb/submit", data={
            "csrf": csrf_of(page), "language": "python3",
            "source": "a, b = map(int, input().split())\nprint(a + b)\n"})  # fmt: skip
        assert r.status_code == 303
        sid = int(r.headers["location"].rsplit("/", 1)[1])
        page = c.get(f"/submissions/{sid}").text
        assert 'id="test-5"' in page and "submission.js" in page
        # The language by its name and version, and when it was submitted (issue 18).
        assert re.search(r'id="language" title="python3">Python 3\.\d+', page), page
        assert re.search(r"submitted \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)
        # The page's script reads the JSON API with the session cookie.
        body = stack_module.wait_done(c, sid)
        assert body["verdict"] == "AC"
        page = c.get(f"/submissions/{sid}").text
        assert "row-AC" in page and "v-AC" in page
        assert f"/submissions/{sid}" in c.get("/submissions").text
        # Uploading a file works as well as the textarea.
        r = c.post("/problems/aplusb/submit",
                   data={"csrf": csrf_of(page), "language": "python3", "source": ""},
                   files={"file": ("ab.py", b"print(sum(map(int, input().split())))\n")})  # fmt: skip
        assert r.status_code == 303


def test_output_and_compiler_messages_are_escaped(stack: Any) -> None:
    evil = '#include <stdio.h>\n#error "<script>alert(1)</script>"\n'
    with login(stack) as c:
        page = c.get("/problems/aplusb").text
        r = c.post("/problems/aplusb/submit",
                   data={"csrf": csrf_of(page), "language": "c", "source": evil})  # fmt: skip
        sid = int(r.headers["location"].rsplit("/", 1)[1])
        assert stack_module.wait_done(c, sid)["verdict"] == "CE"
        page = c.get(f"/submissions/{sid}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # A compile error ran no test: no table of pending rows that will never fill (issue 18).
    assert '<table class="tests" id="tests" hidden>' in page


def test_others_cannot_see_a_submission_page(stack: Any) -> None:
    with stack.client("alice") as alice:
        sid = alice.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                                   "source": "print(0)"}).json()["id"]  # fmt: skip
    with login(stack) as c:
        assert c.get(f"/submissions/{sid}").status_code == 404
    with httpx.Client(base_url=stack.url) as anon:
        r = anon.get("/submissions", headers={"Accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_signup_and_admin_pages(stack: Any) -> None:
    with httpx.Client(base_url=stack.url) as c:
        token = csrf_of(c.get("/register").text)
        r = c.post("/register", data={"csrf": token, "name": "dave", "password": "short"})
        assert r.status_code == 422 and "at least 8" in r.text
        r = c.post("/register", data={"csrf": token, "name": "dave", "password": PASSWORD})
        assert r.status_code == 303
        assert c.get("/admin", headers={"Accept": "text/html"}).status_code == 403

    with login(stack, "dave") as c:
        assert "dave" in c.get("/").text
    # An admin account made on the tokens page, then the admin's own forms.
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    import store
    from web import accounts

    engine = create_engine(stack.db_url)
    with Session(engine) as s:
        accounts.create_user(s, "eve", PASSWORD, admin=True)
        s.commit()
    engine.dispose()
    with login(stack, "eve") as c:
        page = c.get("/admin").text
        assert "Rejudge all" in page
        page = c.get("/admin/tokens").text
        r = c.post("/admin/tokens", data={"csrf": csrf_of(page), "name": "frank"})
        assert r.status_code == 422 and "create the account" in r.text  # never silently
        r = c.post("/admin/tokens",
                   data={"csrf": csrf_of(page), "name": "frank", "create_user": "on"})  # fmt: skip
        token = re.search(r'<pre class="token">([^<]+)</pre>', r.text)
        assert token, r.text
        with httpx.Client(
            base_url=stack.url, headers={"Authorization": f"Bearer {token[1]}"}
        ) as api:
            assert api.get("/api/submissions").status_code == 200
        # New problem with a zip of bare N.in/N.out files.
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("1.in", "3\n")
            zf.writestr("1.out", "9\n")
            zf.writestr("2.in", "4\n")
            zf.writestr("2.out", "16\n")
        page = c.get("/admin/problems/new").text
        r = c.post("/admin/problems", data={
            "csrf": csrf_of(page), "slug": "square", "title": "Square <b>it</b>",
            "statement": "Print n². <img src=x onerror=alert(1)>", "time_limit": "1",
            "memory_limit": "64M", "checker": "tokens", "stop_on_failure": "on"},
            files={"tests": ("tests.zip", buf.getvalue(), "application/zip")})  # fmt: skip
        assert r.status_code == 303, r.text
        page = c.get("/problems/square").text
        assert "<img" not in page and "&lt;img" in page and "Square &lt;b&gt;it&lt;/b&gt;" in page
        # Edit keeps the tests when none are uploaded.
        page = c.get("/admin/problems/square/edit").text
        r = c.post("/admin/problems", data={
            "csrf": csrf_of(page), "original_slug": "square", "slug": "square", "title": "Square",
            "statement": "Print n squared.", "time_limit": "2", "memory_limit": "64M",
            "checker": "tokens"})  # fmt: skip
        assert r.status_code == 303
        with stack.client() as api:
            p = api.get("/api/problems/square").json()
        assert p["title"] == "Square" and p["tests"] == 2 and p["time_limit"] == 2
        page = c.get("/admin").text
        r = c.post("/admin/problems/square/rejudge", data={"csrf": csrf_of(page)})
        assert r.status_code == 303
        # One submission rejudged from its page.
        with stack.client("alice") as api:
            sid = api.post("/api/submissions?wait=true", json={
                "problem": "square", "language": "python3", "source": "print(int(input())**2)"
            }).json()["id"]  # fmt: skip
            page = c.get(f"/submissions/{sid}").text
            assert "Rejudge" in page
            r = c.post(f"/admin/submissions/{sid}/rejudge", data={"csrf": csrf_of(page)})
            assert r.status_code == 303
            assert stack_module.wait_done(api, sid)["verdict"] == "AC"
        # A damaged tests zip is refused, not a 500.
        r = c.post("/admin/problems", data={"csrf": csrf_of(page), "slug": "broken", "title": "B"},
                   files={"tests": ("t.zip", b"PK\x03\x04nonsense", "application/zip")})  # fmt: skip
        assert r.status_code == 400
    assert store  # imported for the models above


def _package_zip() -> bytes:
    """An ICPC package of our own with submissions that name their verdicts; one of them
    (accepted/wrong.py) lies, so verify must report a mismatch."""
    ab = "a, b = map(int, input().split())\nprint(a + b)\n"
    files = {
        "problem.yaml": "name: Verified sum\nlimits:\n  time_limit: 1\n",
        "data/sample/1.in": "1 2\n", "data/sample/1.ans": "3\n",
        "data/secret/1.in": "2 2\n", "data/secret/1.ans": "4\n",
        "data/secret/2.in": "5 6\n", "data/secret/2.ans": "11\n",
        "submissions/accepted/good.py": ab,
        "submissions/accepted/wrong.py": "print(0)\n",
        "submissions/wrong_answer/off_by_one.py": ab.replace("a + b", "a + b + 1"),
        "submissions/run_time_error/crash.py": "raise SystemExit(3)\n",
    }  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(f"zverify/{name}", text)
    return buf.getvalue()


def _verify_rows(html: str) -> dict[str, str]:
    """name -> first cell (ok / BAD / … / –) of the verify table."""
    rows = re.findall(r'<tr class="[^"]*" data-name="([^"]+)">\s*<td>(.*?)</td>', html, re.S)
    return {name: re.sub(r"<[^>]+>", "", cell).strip() for name, cell in rows}


def test_admin_imports_a_package_and_verifies_it_from_the_page(stack: Any) -> None:
    stack_module.ensure_admin(stack, "verifier")
    with login(stack, "verifier") as c:
        page = c.get("/admin").text
        assert 'action="/admin/problems/import"' in page
        r = c.post("/admin/problems/import", data={"csrf": csrf_of(page)},
                   files={"archive": ("zverify.zip", _package_zip(), "application/zip")})  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/admin/problems/zverify/verify"
        page = c.get("/admin/problems/zverify/verify").text
        assert "Not verified yet" in page
        # The same zip again is refused without "replace", with the reason.
        r = c.post("/admin/problems/import", data={"csrf": csrf_of(page)},
                   files={"archive": ("zverify.zip", _package_zip(), "application/zip")})  # fmt: skip
        assert r.status_code == 409 and "replace" in r.text
        r = c.post("/admin/problems/zverify/verify", data={"csrf": csrf_of(page)})
        assert r.status_code == 303
        deadline = time.monotonic() + 90
        while True:
            page = c.get("/admin/problems/zverify/verify").text
            if 'http-equiv="refresh"' not in page:
                break
            assert time.monotonic() < deadline, page
            time.sleep(0.3)
        rows = _verify_rows(page)
        assert rows == {"accepted/good.py": "ok", "accepted/wrong.py": "BAD",
                        "wrong_answer/off_by_one.py": "ok",
                        "run_time_error/crash.py": "ok"}, rows  # fmt: skip
        assert 'id="verify-status">mismatch' in page
        # A forged form does nothing.
        assert c.post("/admin/problems/zverify/verify", data={"csrf": "x"}).status_code == 403
    # Only admins import or verify.
    with login(stack, "carol") as c:
        assert c.get("/admin/problems/zverify/verify").status_code == 403
        page = c.get("/").text
        r = c.post("/admin/problems/zverify/verify", data={"csrf": csrf_of(page)})
        assert r.status_code == 403


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _zip_twice(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as z:
        warnings.simplefilter("ignore")  # "Duplicate name": the point of this archive
        z.writestr(name, data)
        z.writestr(name, data)
    return buf.getvalue()


def test_a_zip_on_the_submit_form_is_a_multi_file_submission(stack: Any) -> None:
    main = b"from helper import add\na, b = map(int, input().split())\nprint(add(a, b))\n"
    helper = b"def add(a, b):\n    return a + b\n"
    with login(stack) as c:
        page = c.get("/problems/aplusb").text
        assert "a .zip for several files" in page

        def post(archive: bytes, source: str = "") -> httpx.Response:
            return c.post("/problems/aplusb/submit",
                          data={"csrf": csrf_of(page), "language": "python3", "source": source},
                          files={"file": ("solution.zip", archive, "application/zip")})  # fmt: skip

        # A zipped folder: the entry point is the file that is not imported (main), as the API
        # chooses it; its helper sits beside it in the box.
        r = post(_zip({"sol/main.py": main, "sol/helper.py": helper, "sol/.DS_Store": b"x"}))
        assert r.status_code == 303, r.text
        sid = int(r.headers["location"].rsplit("/", 1)[1])
        assert stack_module.wait_done(c, sid)["verdict"] == "AC"
        refused = {
            "both": post(_zip({"main.py": main}), source="print(1)"),
            "nested": post(_zip({"a/main.py": main, "b/helper.py": helper})),
            "binary": post(_zip({"main.py": b"\xff\xfe"})),
            "twice": post(_zip_twice("main.py", main)),
            "broken": post(b"PK\x03\x04 not really a zip"),
            "empty": post(_zip({"__MACOSX/._main.py": b"x"})),
        }
    codes = {k: (r.status_code, r.text) for k, r in refused.items()}
    assert codes["both"][0] == 422 and "not both" in codes["both"][1]
    assert codes["nested"][0] == 422 and "one folder" in codes["nested"][1]
    assert codes["binary"][0] == 422 and "UTF-8" in codes["binary"][1]
    assert codes["broken"][0] == 400 and "not a readable zip" in codes["broken"][1]
    assert codes["empty"][0] == 422 and "no files" in codes["empty"][1]
    assert codes["twice"][0] == 422 and "twice" in codes["twice"][1]


def test_error_pages_know_who_is_logged_in(stack: Any) -> None:
    """A 404 or 422 page shows the user's name, not "Log in / Sign up" (issue 18)."""
    with login(stack) as c:
        missing = c.get("/problems/no-such-problem")
        page = c.get("/problems/aplusb").text
        empty = c.post("/problems/aplusb/submit",
                       data={"csrf": csrf_of(page), "language": "python3", "source": " "})
    for r in (missing, empty):
        assert r.status_code in (404, 422), r.status_code
        assert "carol" in r.text and 'href="/login' not in r.text, r.text
    with httpx.Client(base_url=stack.url) as anonymous:
        r = anonymous.get("/problems/no-such-problem", headers={"Accept": "text/html"})
    assert r.status_code == 404 and 'href="/login' in r.text
