"""A student who wants the hidden tests gets nothing of them (DESIGN 5.10, issue 14 finding 1).

The attacks: print the hidden input (raw and base32) so a checker message quotes it back; exit
with a code made of the input; sleep for a time made of the input and watch the rows arrive.
Each is tried as a non-admin against the real web server and worker of the shared stack,
through the JSON API and the submission page, and the same submission is read as an admin to
show the data was there to leak.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import httpx

from web.visibility import INTERNAL_ERROR_NOTE

SAMPLE_IN, SAMPLE_OUT = "1 2\n", "3\n"
# Distinctive numbers: any of them (or its base32) in a non-admin's view is a leak.
HIDDEN = [("918273 645546\n", "1563819\n"), ("700001 230011\n", "930012\n")]
SECRETS = [s.split() for pair in HIDDEN for s in pair]
SECRET_WORDS = {w for words in SECRETS for w in words}

ECHO = """import base64, sys
data = sys.stdin.read()
# The hostile part: the input itself, raw and base32, where a checker message would quote it.
print(data.strip(), base64.b32encode(data.encode()).decode())
"""
EXIT_CODE = """import sys
a, b = map(int, sys.stdin.read().split())
sys.exit(a % 256 or 1) if a != 1 else print(a + b)
"""
SLEEPER = """import sys, time
a, b = map(int, sys.stdin.read().split())
time.sleep((a % 7) / 10)  # the input, written into the time the test takes
print(a + b)
"""


def _problem(slug: str, **extra: Any) -> dict[str, Any]:
    tests = [{"input": SAMPLE_IN, "output": SAMPLE_OUT, "sample": True}]
    tests += [{"input": i, "output": o} for i, o in HIDDEN]
    return {"slug": slug, "title": slug, "time_limit": 2, "stop_on_failure": False,
            "tests": tests, **extra}  # fmt: skip


def _create(stack: Any, problem: dict[str, Any]) -> None:
    with stack.client("admin") as c:
        r = c.post("/api/problems", json=problem)
        assert r.status_code == 201, r.text
        assert r.json()["tests_detail"] is None  # an upload is not echoed back


def _leaks(text: str) -> list[str]:
    """Every hidden number, or a base32 of hidden input, found in `text`."""
    found = [w for w in SECRET_WORDS if w in text]
    found += [i for i, _ in HIDDEN if base64.b32encode(i.encode()).decode()[:16] in text]
    return found


def _submit(c: httpx.Client, slug: str, source: str) -> int:
    r = c.post("/api/submissions", json={"problem": slug, "language": "python3", "source": source})
    assert r.status_code == 202, r.text
    sid: int = r.json()["id"]
    return sid


def _finished(c: httpx.Client, sid: int) -> dict[str, Any]:
    r = c.get(f"/api/submissions/{sid}?wait=true")
    assert r.status_code == 200 and r.json()["status"] == "done", r.text
    body: dict[str, Any] = r.json()
    return body


def _views(stack: Any, sid: int) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """The submission as its author and as an admin: JSON and page."""
    html = {"Accept": "text/html"}
    with stack.client("alice") as c:
        mine = _finished(c, sid)
        my_page = c.get(f"/submissions/{sid}", headers=html).text
    with stack.client("admin") as c:
        admin = c.get(f"/api/submissions/{sid}").json()
        admin_page = c.get(f"/submissions/{sid}", headers=html).text
    return mine, my_page, admin, admin_page


def test_echoing_the_input_into_checker_messages_leaks_nothing(stack: Any) -> None:
    _create(stack, _problem("hidden-echo"))
    with stack.client("alice") as c:
        sid = _submit(c, "hidden-echo", ECHO)
    mine, my_page, admin, admin_page = _views(stack, sid)
    assert [t["verdict"] for t in mine["tests"]] == ["WA", "WA", "WA"]
    # The sample's details are the student's to see; the hidden tests' are not.
    assert "expected" in mine["tests"][0]["message"]
    assert [t["message"] for t in mine["tests"][1:]] == ["", ""]
    assert _leaks(str(mine)) == [] and _leaks(my_page) == []
    # The attack did work on the data: an admin sees the echo quoted back.
    assert _leaks(str(admin)) and _leaks(admin_page)


def test_an_exit_code_made_of_the_input_is_not_shown(stack: Any) -> None:
    _create(stack, _problem("hidden-exit"))
    with stack.client("alice") as c:
        sid = _submit(c, "hidden-exit", EXIT_CODE)
    mine, _page, admin, _admin_page = _views(stack, sid)
    assert [t["verdict"] for t in mine["tests"]] == ["AC", "RE", "RE"]
    assert [t["exit_code"] for t in mine["tests"]] == [0, None, None]
    assert [t["exit_code"] for t in admin["tests"]] == [0, 918273 % 256, 700001 % 256]


def test_verdicts_policy_hides_time_memory_and_row_timing(stack: Any) -> None:
    _create(stack, _problem("hidden-time", test_details="verdicts"))
    with stack.client("alice") as c:
        sid = _submit(c, "hidden-time", SLEEPER)
        seen_rows: set[int] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            body = c.get(f"/api/submissions/{sid}").json()
            if body["status"] == "done":
                break
            # Until the end, only the sample's row may appear: a hidden row's arrival time
            # would be its running time.
            seen_rows |= {t["index"] for t in body["tests"]}
            assert body["time"] is None and body["memory"] is None
            time.sleep(0.02)
        assert seen_rows <= {1}
        mine = _finished(c, sid)
        listed = next(s for s in c.get("/api/submissions").json() if s["id"] == sid)
    assert [t["verdict"] for t in mine["tests"]] == ["AC", "AC", "AC"]
    sample, *hidden = mine["tests"]
    assert sample["cpu_time"] is not None and sample["memory"] is not None
    for t in hidden:
        assert (t["cpu_time"], t["wall_time"], t["memory"], t["message"]) == (None, None, None, "")
    assert (mine["time"], mine["memory"]) == (None, None)
    assert (listed["time"], listed["memory"]) == (None, None)
    with stack.client("admin") as c:
        admin = c.get(f"/api/submissions/{sid}").json()
    assert all(t["wall_time"] is not None for t in admin["tests"])
    # 918273 % 7 = 6 and 700001 % 7 = 1: the second test slept 0.5 s longer than the third.
    assert admin["tests"][1]["wall_time"] > admin["tests"][2]["wall_time"] + 0.3
    # The page, and the gradings a rejudge replaces, keep the totals from the author too.
    assert _page_totals(stack, "alice", sid) == ("—", "—")
    assert "—" not in _page_totals(stack, "admin", sid)
    with stack.client("admin") as c:
        batch = c.post("/api/problems/hidden-time/rejudge").json()["batch"]
        deadline = time.monotonic() + 60
        while c.get(f"/api/batches/{batch}").json()["status"] != "done":
            assert time.monotonic() < deadline, "the rejudge did not end"
            time.sleep(0.1)
        replaced = c.get(f"/api/submissions/{sid}").json()["history"]
    assert replaced and replaced[0]["time"] is not None and replaced[0]["memory"] is not None
    with stack.client("alice") as c:
        mine = _finished(c, sid)
        page = c.get(f"/submissions/{sid}", headers={"Accept": "text/html"}).text
    assert [(h["time"], h["memory"]) for h in mine["history"]] == [(None, None)]
    assert _page_totals(stack, "alice", sid) == ("—", "—")
    history = page.split('id="history"', 1)[1]
    history_times = re.findall(r'<td class="num">([^<]*)</td>\s*<td class="msg">', history)
    assert history_times == [""], history_times


def _page_totals(stack: Any, who: str, sid: int) -> tuple[str, str]:
    """The Time and Memory of the submission page's summary, as `who` sees them."""
    with stack.client(who) as c:
        page = c.get(f"/submissions/{sid}", headers={"Accept": "text/html"}).text
    found = re.search(r'<dd id="time">([^<]*)</dd>\s*<dt>Memory</dt><dd id="memory">([^<]*)', page)
    assert found, page
    return found.group(1), found.group(2)


# An interactor that logs its test (debug output, the admin's to read) and then fails with an
# exit code no protocol defines: an internal error, retried, then given up.
LOGGING_INTERACTOR = """import sys
print("secret", open(sys.argv[1]).read().split()[0], file=sys.stderr)
sys.exit(5)
"""


def test_an_internal_errors_text_never_reaches_the_author_even_between_attempts(
    stack: Any,
) -> None:
    secret = HIDDEN[0][0].split()[0]
    problem = _problem(
        "hidden-ie", interactor={"language": "python3", "source": LOGGING_INTERACTOR}
    )
    problem["tests"] = [{"input": HIDDEN[0][0]}]
    _create(stack, problem)
    html = {"Accept": "text/html"}
    with stack.client("alice") as c:
        sid = _submit(c, "hidden-ie", "print('? 1')\n")
        statuses, views = set(), []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            body = c.get(f"/api/submissions/{sid}").json()
            statuses.add(body["status"])
            views += [str(body), c.get(f"/submissions/{sid}", headers=html).text]
            if body["status"] in ("done", "error"):
                break
            time.sleep(0.05)
    # Every attempt was seen, the retries included (released: queued; then claimed again).
    assert {"queued", "error"} <= statuses and statuses & {"compiling", "running"}, statuses
    assert body["verdict"] == "IE" and body["message"] == INTERNAL_ERROR_NOTE
    assert [v for v in views if secret in v] == []
    with stack.client("admin") as c:
        admin = c.get(f"/api/submissions/{sid}").json()
    assert secret in admin["message"]  # it was there to leak


def test_problem_listings_carry_no_test_data(stack: Any) -> None:
    _create(stack, _problem("hidden-listed"))
    for who in (None, "alice"):
        with stack.client(who) as c:
            listing = c.get("/api/problems").text
            detail = c.get("/api/problems/hidden-listed").json()
            page = c.get("/problems/hidden-listed", headers={"Accept": "text/html"}).text
        assert _leaks(listing) == [] and _leaks(str(detail)) == [] and _leaks(page) == []
        assert detail["tests"] == 3 and detail["tests_detail"] is None
    with stack.client("admin") as c:
        assert len(c.get("/api/problems/hidden-listed").json()["tests_detail"]) == 3
