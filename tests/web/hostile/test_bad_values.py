"""Absurd numbers, invalid strings and look-alike names get a 422 (or a refusal), never a 500
and never a stored row (issue 14 findings 8 and 9)."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from web import accounts

BASE = {"slug": "bad-values", "tests": [{"input": "1\n", "output": "1\n"}]}


@pytest.mark.parametrize(
    "change",
    [
        {"memory_limit": "NaN"},
        {"memory_limit": "Infinity"},
        {"memory_limit": 1e308},
        {"memory_limit": "9999999999G"},
        {"output_limit": -1},
        {"time_limit": 1e-300},
        {"time_limit": "NaN"},
        {"tests": [{"input": "1\n", "output": "1\n", "points": "NaN"}]},
        {"tests": [{"input": "1\n", "output": "1\n", "points": "Infinity"}]},
        {"checker": {"type": "float", "abs": "NaN"}},
        {"limits": {"wall_time": "Infinity"}},
        {"slug": "bad-values\n"},
        {"statement": "\ud800"},
    ],
    ids=lambda c: json.dumps(c)[:40],
)
def test_absurd_problem_values_are_422(stack: Any, change: dict[str, Any]) -> None:
    body = json.dumps({**BASE, **change})
    # Bare NaN/Infinity tokens, as Python's json (and JavaScript's sloppy writers) emit them.
    body = body.replace('"NaN"', "NaN").replace('"Infinity"', "Infinity")
    with stack.client("admin") as c:
        r = c.post("/api/problems", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.json()["error"] and r.json()["detail"]
        assert c.get("/api/problems/bad-values").status_code == 404


@pytest.mark.parametrize("field", ["source", "stdin"])
def test_a_lone_surrogate_is_422(stack: Any, field: str) -> None:
    run = {"language": "python3", "source": "print(1)", "stdin": ""}
    run[field] += "\ud800"
    sub = {"problem": "aplusb", "language": "python3", "source": "print(1)\ud800"}
    with stack.client("alice") as c:
        for path, body in (("/api/runs", run), ("/api/submissions", sub)):
            r = c.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
            assert r.status_code == 422, (path, r.text)


def test_run_limits_must_be_finite(stack: Any) -> None:
    run = '{"language": "python3", "source": "print(1)", "limits": {"cpu_time": Infinity}}'
    with stack.client("alice") as c:
        r = c.post("/api/runs", content=run, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


def test_look_alike_names_are_refused(stack: Any) -> None:
    engine = create_engine(stack.db_url)
    try:
        with Session(engine) as s:
            accounts.create_user(s, "mallory", "a long password")
            s.commit()
            for name in ("mallory\n", "Mallory", "MALLORY", "admin\n", " mallory"):
                with pytest.raises(accounts.AccountError):
                    accounts.create_user(s, name, "a long password")
            s.rollback()
    finally:
        engine.dispose()


def test_login_takes_as_long_for_an_unknown_name(stack: Any) -> None:
    """A wrong password for a known name and any password for an unknown one cost one scrypt
    each (before: two for the unknown name, 70 ms against 35)."""
    engine = create_engine(stack.db_url)
    try:
        with Session(engine) as s:
            accounts.authenticate(s, "nobody", "warm the dummy hash")

            def median(name: str) -> float:
                times = []
                for _ in range(7):
                    start = time.perf_counter()
                    assert accounts.authenticate(s, name, "wrong password") is None
                    times.append(time.perf_counter() - start)
                return statistics.median(times)

            known, unknown = median("carol"), median("nobody-at-all")
    finally:
        engine.dispose()
    assert unknown < known * 1.5, (known, unknown)
