"""judge problem verify: a package's own submissions graded by the real pipeline and sandbox,
each compared with the verdict the package expects; a package without a time limit gets one
from its accepted submissions (problemtools' rule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import store
from web import cli

AB = "a, b = map(int, input().split())\nprint(a + b)\n"
WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
SPIN = "while True:\n    pass\n"
TESTS = [("1 2\n", "3\n"), ("5 5\n", "10\n")]


def _package(root: Path, slug: str, submissions: list[dict[str, Any]], **meta: Any) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "problem.json").write_text(
        json.dumps({"slug": slug, "title": "A+B", "submissions": submissions, **meta})
    )
    for i, (given, wanted) in enumerate(TESTS, 1):
        (root / "tests" / f"{i}.in").write_text(given)
        (root / "tests" / f"{i}.out").write_text(wanted)
    return root


def _sub(name: str, source: str, *expected: str) -> dict[str, Any]:
    return {"name": name, "language": "python3", "source": source, "expected": list(expected)}



def test_verify_matches_and_reports_a_mislabelled_submission(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    subs = [
        _sub("accepted/ab.py", AB, "AC"),
        _sub("wrong_answer/minus.py", WRONG, "WA"),
        _sub("time_limit_exceeded/spin.py", SPIN, "TLE"),
        _sub("accepted/mislabelled.py", WRONG, "AC"),
    ]
    pkg = _package(tmp_path / "p", "ab", subs, time_limit=0.5)
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "ab", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in report["rows"]}
    assert [rows[n]["verdict"] for n in rows] == ["AC", "WA", "TLE", "WA"]
    assert [rows[n]["ok"] for n in rows] == [True, True, True, False]
    assert rows["accepted/mislabelled.py"]["mismatches"] == ["1: WA"]
    assert report["ok"] is False and report["time_limit"] == 0.5

    # The table form: one row per submission, BAD on the mismatch, a closing line.
    assert cli.main(["problem", "verify", "ab"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("ab: 3 of 4 submissions got their expected verdict")
    bad = [line for line in out if line.startswith("BAD")]
    assert len(bad) == 1 and "accepted/mislabelled.py" in bad[0] and "tests 1: WA" in bad[0]

    # Every verify grading is a real submission in a "verify" batch, not a user's.
    with store.session_factory(store.make_engine(db))() as s:
        kinds = [b.kind for b in s.query(store.Batch).all()]
        assert kinds == ["verify", "verify"]
        assert all(sub.user_id is None for sub in s.query(store.Submission).all())


def test_time_limit_from_accepted_submissions(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    subs = [_sub("accepted/ab.py", AB, "AC"), _sub("wrong_answer/minus.py", WRONG, "WA")]
    package = {"format": "icpc", "time_limit_from_submissions": True, "time_multiplier": 5}
    pkg = _package(tmp_path / "p", "nolimit", subs, time_limit=10, package=package)
    assert cli.main(["problem", "import", str(pkg)]) == 0
    assert cli.main(["problem", "verify", "nolimit", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    # A+B in Python takes milliseconds: x 5, rounded up to a whole second.
    assert report["time_limit_set"] is True and report["time_limit"] == 1.0
    with store.session_factory(store.make_engine(db))() as s:
        problem = s.query(store.Problem).filter_by(slug="nolimit").one()
        assert problem.time_limit == 1.0
        assert problem.package["time_limit_from_submissions"] is False


def test_unknown_problem_and_nothing_to_verify(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["problem", "verify", "nope"]) == 2
    assert "no problem 'nope'" in capsys.readouterr().err
    assert cli.main(["problem", "import", str(_package(tmp_path / "p", "bare", []))]) == 0
    assert cli.main(["problem", "verify", "bare"]) == 2
    assert "ships no submissions" in capsys.readouterr().err


def test_a_language_missing_here_is_not_run_rather_than_a_mismatch(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # problemtools ships a Python 2 submission: Debian 12 has no Python 2, the judge no row for it.
    subs = [
        _sub("accepted/ab.py", AB, "AC"),
        {**_sub("accepted/ab2.py", "print sum(map(int, raw_input().split()))\n", "AC"),
         "language": "python2"},
        {**_sub("accepted/ab.awk", "{ print $1 + $2 }\n", "AC"), "language": "awk"},
    ]  # fmt: skip
    pkg = _package(tmp_path / "p", "langs", subs, time_limit=1)
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "langs"]) == 0
    out = capsys.readouterr().out.splitlines()
    missing = [line for line in out if line.startswith("--")]
    assert len(missing) == 2
    assert "language 'python2' is not installed here" in missing[0]
    assert "language 'awk' is not installed here" in missing[1]
    assert out[-1].startswith("langs: 1 of 1 submissions got their expected verdict; 2 not run")


def test_icpc_python_submissions_run_with_pypy_as_kattis_and_domjudge_do(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from worker import languages

    pypy = languages.known("pypy3")
    if pypy is None or not pypy.available():
        pytest.skip("pypy3 not installed (bash .ci/languages pypy3)")
    root = tmp_path / "impl"
    for name, text in {
        "problem.yaml": "name: Impl\nlimits:\n  time_limit: 2\n",
        "data/secret/1.in": "\n",
        "data/secret/1.ans": "PyPy\n",
        "submissions/accepted/which.py": "import platform\nprint(platform.python_implementation())\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    assert cli.main(["problem", "import", str(root)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "impl", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert (row["language"], row["verdict"]) == ("pypy3", "AC")

    # Our own format keeps the language it names.
    pkg = _package(tmp_path / "p", "own", [_sub("accepted/ab.py", AB, "AC")], time_limit=1)
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "own", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["language"] == "python3"
