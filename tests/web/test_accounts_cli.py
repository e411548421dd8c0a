"""``judge user password|list`` and an explicit ``judge token create`` (issue 16, item 5).

Real ``judge`` processes against the shared test judge's database; the passwords and tokens
they print are tried on its web server.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import httpx

stack_module = sys.modules["web_test_stack"]


def judge(stack: Any, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args], input=stdin, env=stack.env,
        cwd=stack_module.REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def refused(r: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and r.stdout == "", (r.returncode, r.stderr)
    assert all(w in lines[0] for w in words), lines


def last_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def users(stack: Any) -> dict[str, list[str]]:
    """``judge user list`` as {name: [admin, created, password, last API use]}."""
    r = judge(stack, "user", "list")
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.strip().splitlines()
    assert header.split() == ["name", "admin", "created", "password", "last", "API", "use"]
    found = {}
    for row in rows:
        cells = re.split(r"\s{2,}", row)
        found[cells[0]] = cells[1:]
    return found


def can_log_in(stack: Any, name: str, password: str) -> bool:
    with httpx.Client(base_url=stack.url, timeout=60, headers={"Accept": "text/html"}) as c:
        page = c.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        r = c.post("/login", data={"csrf": csrf.group(1), "name": name, "password": password})
        assert r.status_code in (303, 401), r.text
        return r.status_code == 303


def test_token_create_makes_no_user_and_no_admin_unless_asked(stack: Any) -> None:
    refused(judge(stack, "token", "create", "ghost"),
            "no user 'ghost'", "judge user create ghost", "--create-user")  # fmt: skip
    refused(judge(stack, "token", "create", "alice", "--admin"),
            "alice is not an admin", "--promote")  # fmt: skip
    refused(judge(stack, "token", "create", "alice", "--promote"), "--promote goes with --admin")
    refused(judge(stack, "token", "create", "Alice", "--create-user"), "'Alice' is taken")
    refused(judge(stack, "token", "create", "bad name", "--create-user"), "a name is")
    before = users(stack)
    assert "ghost" not in before and "Alice" not in before and before["alice"][0] == "no"

    # Asked for: an API-only user, then made an admin.
    token = last_line(judge(stack, "token", "create", "robot", "--create-user"))
    with stack.client(url=stack.url) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        assert c.get("/api/submissions").status_code == 200
        assert c.get("/metrics").status_code == 403
    assert users(stack)["robot"][0::2] == ["no", "no"]  # not an admin, no password
    r = judge(stack, "token", "create", "robot", "--admin", "--promote")
    assert "(admin)" in r.stdout
    with stack.client(url=stack.url) as c:
        c.headers["Authorization"] = f"Bearer {last_line(r)}"
        assert c.get("/metrics").status_code == 200
    listed = users(stack)["robot"]
    assert listed[0] == "yes" and listed[3] != "never"  # the first token was used above
    # An admin's token needs no --promote; a token never says admin for a non-admin.
    assert "(admin)" in judge(stack, "token", "create", "root", "--admin").stdout
    assert "(admin)" not in judge(stack, "token", "create", "alice").stdout


def test_user_password_sets_or_resets_and_ends_nothing_half_done(stack: Any) -> None:
    first = last_line(judge(stack, "user", "create", "dana"))
    refused(judge(stack, "user", "create", "dana"), "'dana' is taken")  # was exit status 1
    refused(judge(stack, "user", "password", "nobody"), "no user 'nobody'", "judge user create")

    # Reset to a random password, printed last: the old one stops working.
    second = last_line(judge(stack, "user", "password", "dana"))
    assert second != first and can_log_in(stack, "dana", second)
    assert not can_log_in(stack, "dana", first)

    # From stdin (nothing echoed); a bad one changes nothing.
    refused(judge(stack, "user", "password", "dana", "--stdin", stdin="short\n"), "8 characters")
    refused(judge(stack, "user", "password", "dana", "--stdin", stdin=""), "no password on stdin")
    assert can_log_in(stack, "dana", second)
    r = judge(stack, "user", "password", "dana", "--stdin", stdin="correct horse battery\n")
    assert r.returncode == 0 and "correct horse" not in r.stdout, r
    assert can_log_in(stack, "dana", "correct horse battery")

    # A user with API tokens only gets a password (a web login) the same way.
    last_line(judge(stack, "token", "create", "apionly", "--create-user"))
    assert users(stack)["apionly"][2] == "no"
    third = last_line(judge(stack, "user", "password", "apionly"))
    assert can_log_in(stack, "apionly", third) and users(stack)["apionly"][2] == "yes"
