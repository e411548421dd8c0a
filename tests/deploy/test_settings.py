"""JUDGE_* settings: one schema, read through it everywhere, documented from it, checked at start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from store import env

REPO = Path(__file__).resolve().parents[2]


def test_readme_table_is_the_schema() -> None:
    readme = (REPO / "README.md").read_text()
    assert env.markdown_table() in readme, "README's table differs: paste env.markdown_table()"


def test_every_setting_read_in_the_code_is_in_the_schema() -> None:
    names: set[str] = set()
    for package in ("store", "worker", "web"):
        for path in (REPO / package).rglob("*.py"):
            found = re.findall(r"\b(JUDGE_[A-Z][A-Z0-9_]*)\b", path.read_text())
            names |= {n for n in found if not n.endswith("_")}  # not a prefix like JUDGE_TEST_
    assert names - set(env.BY_NAME) == set()
    unused = set(env.BY_NAME) - names
    assert unused == set(), f"in the schema but read nowhere: {unused}"


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("JUDGE_LEASE_SECONDS", "soon", "a number is expected"),
        ("JUDGE_LEASE_SECONDS", "0.5", "at least 1"),
        ("JUDGE_LEASE_SECONDS", "inf", "finite"),
        ("JUDGE_MAX_ATTEMPTS", "2.5", "whole number"),
        ("JUDGE_OPEN_SIGNUP", "maybe", "use 1 or 0"),
        ("JUDGE_LOG_FORMAT", "xml", "text, json"),
        ("JUDGE_DATABASE_URL", "mysql://db/judge", "postgresql://"),
        ("JUDGE_DATABASE_URL", "not a url", "not a database URL"),
        ("JUDGE_REDIS_URL", "localhost:6379", "redis://"),
    ],
)
def test_bad_values_name_the_variable(name: str, raw: str, message: str) -> None:
    with pytest.raises(env.ConfigError) as err:
        env.check(environ={name: raw})
    text = str(err.value)
    assert text.startswith(f"{name}={raw!r}:") and message in text and "\n" not in text


def test_good_values_and_defaults() -> None:
    e = {"JUDGE_LEASE_SECONDS": "2.5", "JUDGE_OPEN_SIGNUP": "off", "JUDGE_LOG_FORMAT": "JSON",
         "JUDGE_DATABASE_URL": "postgres://u:p@h/db", "JUDGE_REDIS_URL": "rediss://:p@h:1/0"}  # fmt: skip
    assert env.check(environ=e) == []
    assert env.number("JUDGE_LEASE_SECONDS", e) == 2.5
    assert env.flag("JUDGE_OPEN_SIGNUP", e) is False
    assert env.choice("JUDGE_LOG_FORMAT", e) == "json"
    assert env.integer("JUDGE_MAX_ATTEMPTS", {}) == 3
    assert env.text("JUDGE_DATABASE_URL", {}) == ""
    warnings = env.check(environ={"JUDGE_LEASE_SECOND": "3", "JUDGE_TEST_PG_BIN": "/x"})
    assert warnings == ["JUDGE_LEASE_SECOND is not a judge setting (did you mean "
                        "JUDGE_LEASE_SECONDS?); it is ignored"]  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-m", "worker"],
        [sys.executable, "-m", "web.cli", "web"],
        [sys.executable, "-m", "web.cli", "worker"],
        [sys.executable, "-m", "web.cli", "migrate"],
        [sys.executable, "-m", "web.cli", "config"],
    ],
)
def test_each_command_stops_at_a_bad_value_with_one_line(argv: list[str], tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
    clean.update(PYTHONPATH=str(REPO), JUDGE_DATA_DIR=str(tmp_path / "var"))
    bad = {"JUDGE_DATABASE_URL": "mysql://db/judge", "JUDGE_SWEEP_INTERVAL": "never"}
    for name, value in bad.items():
        if name == "JUDGE_SWEEP_INTERVAL" and argv[-1] == "migrate":
            continue  # migrating reads no worker setting
        r = subprocess.run(argv, env={**clean, name: value}, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and name in lines[0], (argv, r.stderr)
    assert not (tmp_path / "var").exists()
