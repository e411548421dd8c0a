"""Guessing passwords is slow and cannot take the cores (issue 14, finding 4): failed logins
are counted per client address and per account, sign-ups per address, and password hashing
runs one at a time per two cores. Client addresses are real: the loopback net has many."""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from web import accounts

GOOD = "correct horse battery"


@pytest.fixture(scope="module")
def strict(stack: Any) -> Iterator[str]:
    engine = create_engine(stack.db_url)
    with Session(engine) as s:
        for name in ("erin", "frieda"):
            accounts.create_user(s, name, GOOD)
        s.commit()
    engine.dispose()
    yield stack.start_web(JUDGE_LOGIN_FAILURES_PER_ADDRESS="5", JUDGE_LOGIN_FAILURES_PER_NAME="3",
                          JUDGE_SIGNUPS_PER_ADDRESS="2", JUDGE_LOGIN_WINDOW="300")  # fmt: skip


def _client(url: str, source: str) -> httpx.Client:
    """A browser at loopback address `source`."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=url, transport=transport, timeout=60,
                        headers={"Accept": "text/html"})  # fmt: skip


def _post(c: httpx.Client, path: str, **form: str) -> httpx.Response:
    page = c.get(path).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token, page[:300]
    return c.post(path, data={"csrf": token.group(1), **form})


def test_an_account_under_attack_is_locked_for_everyone(strict: str) -> None:
    with _client(strict, "127.0.0.11") as attacker:
        codes = [_post(attacker, "/login", name="erin", password=f"guess{i}").status_code
                 for i in range(3)]  # fmt: skip
        assert codes == [401, 401, 401]
        r = _post(attacker, "/login", name="erin", password=GOOD)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    with _client(strict, "127.0.0.12") as owner:
        assert _post(owner, "/login", name="erin", password=GOOD).status_code == 429
        # The name is locked, the address is not: another account logs in from here.
        assert _post(owner, "/login", name="frieda", password=GOOD).status_code == 303


def test_an_address_that_keeps_failing_is_refused(strict: str) -> None:
    with _client(strict, "127.0.0.13") as sprayer:
        codes = [_post(sprayer, "/login", name=f"nobody{i}", password="x" * 8).status_code
                 for i in range(5)]  # fmt: skip
        assert codes == [401] * 5
        # Refused before hashing, even with a right password for a real account.
        assert _post(sprayer, "/login", name="frieda", password=GOOD).status_code == 429


def test_sign_ups_are_counted_per_address(strict: str) -> None:
    with _client(strict, "127.0.0.14") as farm:
        codes = [_post(farm, "/register", name=f"sock{i}", password=GOOD).status_code
                 for i in range(3)]  # fmt: skip
    assert codes == [303, 303, 429]
    with _client(strict, "127.0.0.15") as other:
        assert _post(other, "/register", name="sock9", password=GOOD).status_code == 303


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_login_flood_cannot_take_the_cores(stack: Any) -> None:
    """20 clients posting logins at once (before: 1.9 of 2 cores) hash one at a time."""
    url = stack.start_web()  # the stack's generous limits: only the semaphore is under test
    web = stack.processes[-1].proc.pid
    cores = len(os.sched_getaffinity(web))

    def attempt(i: int) -> int:
        with _client(url, f"127.0.1.{i + 1}") as c:
            return sum(_post(c, "/login", name="carol", password=f"no{j}").status_code == 401
                       for j in range(4))  # fmt: skip

    before, start = _cpu_seconds(web), time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        failed = sum(pool.map(attempt, range(20)))
    used = (_cpu_seconds(web) - before) / (time.monotonic() - start)
    assert failed == 80
    # One hashing slot per two cores, plus the server's own request handling.
    assert used < max(1, cores // 2) + 0.5, f"{used:.2f} cores of {cores}"
