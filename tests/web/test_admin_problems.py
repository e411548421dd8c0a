"""A problem administered from the web (issue 18): visibility, delete with history kept,
export that imports back byte for byte, the edit form that keeps what was typed, the test
list, the statement preview; and the problem page's samples, custom-input run and the
highlighted source of a submission."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from typing import Any

import httpx

import store

stack_module = sys.modules["web_test_stack"]
pages = sys.modules.get("test_pages") or __import__("test_pages")
csrf_of, login = pages.csrf_of, pages.login

BINARY_IN = bytes(range(256)) + b"\n"


def _admin(stack: Any) -> Any:
    stack_module.ensure_admin(stack, "tess")
    return login(stack, "tess")


def _problem(slug: str, **extra: Any) -> dict[str, Any]:
    return {"slug": slug, "title": slug.title(), "statement": "Print the input's length.",
            "tests": [{"input": "ab\n", "output": "3\n", "sample": True},
                      {"input": "\n", "output": "1\n"}], **extra}  # fmt: skip


def _create(stack: Any, spec: dict[str, Any]) -> None:
    with stack.client("admin") as api:
        r = api.post("/api/problems", json=spec)
        assert r.status_code == 201, r.text


def _set_visibility(c: httpx.Client, slug: str, visibility: str) -> None:
    page = c.get("/admin").text
    r = c.post(f"/admin/problems/{slug}/visibility",
               data={"csrf": csrf_of(page), "visibility": visibility})  # fmt: skip
    assert r.status_code == 303, r.text


def test_draft_and_hidden_problems(stack: Any) -> None:
    _create(stack, {**_problem("vis-draft"), "tests": [{"input": "1\n", "output": "1\n"}]})
    _create(stack, {**_problem("vis-hidden"), "tests": [{"input": "1\n", "output": "1\n"}]})
    with _admin(stack) as c:
        _set_visibility(c, "vis-draft", "draft")
        _set_visibility(c, "vis-hidden", "hidden")
        assert "/problems/vis-draft" in c.get("/").text  # admins see every one, tagged
    with httpx.Client(base_url=stack.url, timeout=60) as anon, stack.client("alice") as api:
        listing = anon.get("/").text
        assert "/problems/vis-draft" not in listing and "/problems/vis-hidden" not in listing
        slugs = {p["slug"] for p in api.get("/api/problems").json()}
        assert "vis-draft" not in slugs and "vis-hidden" not in slugs
        # A draft is "no problem" to a student, everywhere; a hidden one opens by its link.
        assert anon.get("/problems/vis-draft").status_code == 404
        assert api.get("/api/problems/vis-draft").status_code == 404
        r = api.post("/api/submissions", json={"problem": "vis-draft", "language": "python3",
                                               "source": "print(1)"})  # fmt: skip
        assert r.status_code == 404
        assert anon.get("/problems/vis-hidden").status_code == 200
        r = api.post("/api/submissions", json={"problem": "vis-hidden", "language": "python3",
                                               "source": "print(1)"})  # fmt: skip
        assert r.status_code == 202, r.text
    with _admin(stack) as c:
        r = c.post("/admin/problems/vis-draft/visibility",
                   data={"csrf": csrf_of(c.get("/admin").text), "visibility": "secret"})  # fmt: skip
        assert r.status_code == 422


def test_delete_keeps_history_and_frees_the_name(stack: Any) -> None:
    _create(stack, {**_problem("doomed"), "tests": [{"input": "1\n", "output": "1\n"}]})
    with stack.client("alice") as api:
        sid = api.post("/api/submissions", json={"problem": "doomed", "language": "python3",
                                                 "source": "print(1)"}).json()["id"]  # fmt: skip
    stack_module.wait_done(stack.client("alice"), sid)
    with _admin(stack) as c:
        r = c.post("/admin/problems/doomed/delete", data={"csrf": csrf_of(c.get("/admin").text)})
        assert r.status_code == 303
        assert c.get("/problems/doomed").status_code == 404
        assert "/problems/doomed" not in c.get("/admin").text
    with stack.client("alice") as api:
        assert api.get(f"/api/submissions/{sid}").json()["verdict"] == "AC"  # history kept
        assert api.get("/api/problems/doomed").status_code == 404
    _create(stack, {**_problem("doomed"), "tests": [{"input": "2\n", "output": "2\n"}]})


def test_export_imports_back_byte_for_byte_and_edit_keeps_binary_tests(stack: Any) -> None:
    meta = _problem("roundtrip", files={"notes.bin": {"base64": "AAEC/w=="}})
    meta["tests"] = [{"sample": True}, {}]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("problem.json", json.dumps(meta))
        for n, (given, wanted) in enumerate([(b"ab\n", b"3\n"), (BINARY_IN, b"257\n")], 1):
            zf.writestr(f"tests/{n}.in", given)
            zf.writestr(f"tests/{n}.out", wanted)
    with stack.client("admin") as api:
        r = api.post("/api/problems", content=buf.getvalue(),
                     headers={"Content-Type": "application/zip"})  # fmt: skip
        assert r.status_code == 201, r.text
    with _admin(stack) as c:
        # Edit through the form (no new tests): binary data and files must stay as they were.
        page = c.get("/admin/problems/roundtrip/edit").text
        assert 'id="test-list"' in page and "257 B" in page and ">sample<" in page
        r = c.post("/admin/problems", data={
            "csrf": csrf_of(page), "original_slug": "roundtrip", "slug": "roundtrip",
            "title": "Round Trip", "statement": "Now edited.", "time_limit": "1",
            "memory_limit": "64M", "checker": "tokens", "visibility": "public"})  # fmt: skip
        assert r.status_code == 303, r.text
        r = c.get("/admin/problems/roundtrip/export")
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.read("tests/2.in") == BINARY_IN
    back = store.validate(store.load_archive(r.content))
    assert back.title == "Round Trip" and back.files == {"notes.bin": b"\x00\x01\x02\xff"}
    assert [t.input for t in back.tests] == [b"ab\n", BINARY_IN]
    assert [t.sample for t in back.tests] == [True, False]


def test_a_refused_form_keeps_what_was_typed(stack: Any) -> None:
    with _admin(stack) as c:
        page = c.get("/admin/problems/new").text
        r = c.post("/admin/problems", data={
            "csrf": csrf_of(page), "slug": "typed-once", "title": "Typed <Once>",
            "statement": "A long statement I do not want to type again.", "time_limit": "2",
            "memory_limit": "128M", "checker": "tokens", "visibility": "hidden"})  # fmt: skip
        assert r.status_code == 422 and 'id="form-error"' in r.text
        assert "a new problem needs tests" in r.text
        assert "A long statement I do not want to type again." in r.text
        assert 'value="Typed &lt;Once&gt;"' in r.text and 'value="128M"' in r.text
        assert '<option value="hidden" selected>' in r.text
        assert "tess" in r.text  # the page still knows who is logged in


def test_statement_preview_renders_as_the_problem_page_does(stack: Any) -> None:
    with _admin(stack) as c:
        r = c.post("/admin/problems/preview", data={
            "csrf": csrf_of(c.get("/admin/problems/new").text),
            "statement": "# Title\n$x^2$ <script>alert(1)</script>"})  # fmt: skip
        assert r.status_code == 200
        assert "<h1>Title</h1>" in r.text and "<math" in r.text and "<script>" not in r.text
    with login(stack) as student:
        r = student.post("/admin/problems/preview", data={"csrf": "x", "statement": "hi"})
        assert r.status_code in (403, 401)


def test_problem_page_samples_custom_run_and_highlighted_source(stack: Any) -> None:
    _create(stack, _problem("samples-shown"))
    with login(stack) as c:
        page = c.get("/problems/samples-shown").text
        assert 'id="samples"' in page and "Copy" in page and "<pre>ab\n</pre>" in page
        assert 'id="run-button"' in page and "/static/samples.js" in page
        # The custom run goes through /api/runs with the page's CSRF token, as the script does.
        r = c.post("/api/runs", headers={"X-CSRF-Token": csrf_of(page)}, json={
            "language": "python3", "source": "print(len(input()) + 1)", "stdin": "ab\n",
            "limits": {"cpu_time": 1.0, "memory": 64 << 20}})  # fmt: skip
        assert r.status_code == 200 and r.json()["stdout"] == "3\n", r.text
        sid = c.post("/api/submissions", headers={"X-CSRF-Token": csrf_of(page)}, json={
            "problem": "samples-shown", "language": "python3",
            "source": "def f():\n    return '<b>'\nprint(len(input()) + 1)\n"}).json()["id"]  # fmt: skip
        page = c.get(f"/submissions/{sid}").text
        assert 'class="highlight"' in page and "&lt;b&gt;" in page and "<b>'" not in page
        assert '<link rel="icon" href="/static/favicon.svg"' in page
        assert c.get("/static/favicon.svg").status_code == 200
    # A statement with its own sample sections (an imported package's) is not repeated.
    _create(stack, _problem("samples-own", statement="## Sample Input 1\n\n```\nab\n```\n"))
    with login(stack) as c:
        assert 'id="samples"' not in c.get("/problems/samples-own").text
