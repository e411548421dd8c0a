"""Interactive problems through the web: created with their interactor (JSON and zip), graded by
the real worker, shown like any other problem; the "guess" sample ships with the samples."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from typing import Any

import httpx

# Loaded by this directory's conftest (by file path: test directories are not packages).
stack_module = sys.modules["web_test_stack"]

# Guess 1..100 in at most 7 questions; the secret is the test input.
INTERACTOR = """
import sys
secret = int(open(sys.argv[1]).read())
for asked in range(1, 8):
    line = sys.stdin.readline(64)
    if not line:
        sys.exit(1)
    x = int(line.split()[1])
    if x == secret:
        print("=", flush=True)
        print(f"found in {asked}", file=sys.stderr)
        sys.exit(0)
    print("<" if secret < x else ">", flush=True)
print("too many questions", file=sys.stderr)
sys.exit(1)
"""
SEARCH = """
low, high = {low}, {high}
while True:
    mid = (low + high) // 2
    print("?", mid, flush=True)
    answer = input()
    if answer == "=":
        break
    if answer == "<":
        high = mid - 1
    else:
        low = mid + 1
"""
LINEAR = "x = 1\nwhile True:\n    print('?', x, flush=True)\n    if input() == '=':\n        break\n    x += 1\n"


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def _submit(c: httpx.Client, problem: str, source: str) -> dict[str, Any]:
    r = c.post("/api/submissions?wait=true",
               json={"problem": problem, "language": "python3", "source": source})  # fmt: skip
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_create_interactive_problem_as_json_and_grade(stack: Any) -> None:
    problem = {
        "slug": "guess-100",
        "title": "Guess to 100",
        "time_limit": 1.0,
        "interactor": {"language": "python3", "source": INTERACTOR},
        "tests": [{"input": "1\n"}, {"input": "100\n"}, {"input": "37\n"}],
    }
    with stack.client("admin") as c:
        r = c.post("/api/problems", json=problem)
        assert r.status_code == 201, r.text
        assert r.json()["interactive"] is True and r.json()["tests"] == 3
        ok = _submit(c, "guess-100", SEARCH.format(low=1, high=100))
        wa = _submit(c, "guess-100", LINEAR)
    assert (ok["status"], ok["verdict"], ok["score"]) == ("done", "AC", 3)
    for t in ok["tests"]:
        # Per-test results of the solution's side, as for any problem.
        assert t["verdict"] == "AC" and t["message"].startswith("found in ")
        assert t["cpu_time"] > 0 and t["wall_time"] > 0 and t["memory"] > 0
        assert t["oom_killed"] is False and t["exit_code"] == 0
    assert [t["verdict"] for t in wa["tests"]] == ["AC", "WA", "SK"]
    assert wa["tests"][1]["message"] == "too many questions"


def test_create_interactive_problem_from_zip(stack: Any) -> None:
    meta = {"slug": "guess-zip", "interactor": {"language": "python3", "file": "interactor.py"}}
    archive = _zip(
        {
            "guess-zip/problem.json": json.dumps(meta),
            "guess-zip/interactor.py": INTERACTOR,
            "guess-zip/tests/1.in": "64\n",  # no .out: this interactor needs no answer
        }
    )
    with stack.client("admin") as c:
        r = c.post("/api/problems", content=archive, headers={"content-type": "application/zip"})
        assert r.status_code == 201, r.text
        assert r.json()["interactive"] is True
        detail = c.get("/api/problems/guess-zip").json()
        assert detail["tests_detail"] == [{"input": "64\n", "output": "", "group": None,
                                           "points": 1.0}]  # fmt: skip
        assert _submit(c, "guess-zip", SEARCH.format(low=1, high=100))["verdict"] == "AC"


def test_bad_interactor_is_refused_with_the_reason(stack: Any) -> None:
    base = {"slug": "guess-bad", "tests": [{"input": "1\n"}]}
    with stack.client("admin") as c:
        for interactor, reason in [
            ({"language": "python3"}, "interactor: language and source must be non-empty"),
            ({"language": "cobol", "source": "x"}, "interactor.language: unknown language"),
            ({"language": "c", "file": "i.c"}, "interactor.file: only in a zip or directory"),
        ]:
            r = c.post("/api/problems", json={**base, "interactor": interactor})
            assert r.status_code == 422, r.text
            assert reason in r.json()["detail"]
        zipped = _zip({"problem.json": json.dumps({**base, "interactor": {
            "language": "python3", "file": "missing.py"}}), "tests/1.in": "1\n"})  # fmt: skip
        r = c.post("/api/problems", content=zipped, headers={"content-type": "application/zip"})
        assert r.status_code == 422 and "'missing.py' is not beside problem.json" in r.text
        assert c.get("/api/problems/guess-bad").status_code == 404


def test_guess_sample_is_interactive_and_accepts_binary_search(stack: Any) -> None:
    with stack.client("alice") as c:
        p = c.get("/api/problems/guess").json()
        assert p["interactive"] is True and p["tests"] >= 5
        assert "interactive" in p["statement"].lower() and "flush" in p["statement"].lower()
        body = _submit(c, "guess", SEARCH.format(low=1, high=10**9))
    assert (body["verdict"], body["score"], body["max_score"]) == ("AC", p["tests"], p["tests"])
    # The guess sample marks no test as a sample: the author sees no interactor message...
    assert all(t["message"] == "" for t in body["tests"])
    with stack.client("admin") as c:  # ...an admin sees them all
        tests = c.get(f"/api/submissions/{body['id']}").json()["tests"]
    assert len(tests) == p["tests"] and all(t["message"].startswith("guessed ") for t in tests)


def test_guess_sample_pages(stack: Any) -> None:
    with stack.client("alice") as c:
        sid = _submit(c, "guess", LINEAR)["id"]
    with httpx.Client(base_url=stack.url) as c:
        page = c.get("/problems/guess").text
        assert "<b>Interactive</b>" in page and "Guess the number" in page
    with stack.client("alice") as c:
        page = c.get(f"/submissions/{sid}", headers={"Accept": "text/html"}).text
    # Secret 1 is found at once by counting up; 10^9 is not: one row per test, like any problem.
    assert 'id="test-1"' in page and "row-AC" in page and "row-WA" in page
    # The interactor's message is a hidden test's detail: the admin's page only.
    assert "not guessed after 30 questions" not in page
    with stack.client("admin") as c:
        page = c.get(f"/submissions/{sid}", headers={"Accept": "text/html"}).text
    assert "not guessed after 30 questions" in page
