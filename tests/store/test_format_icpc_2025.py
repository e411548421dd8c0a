"""ICPC packages of format 2025-09 (BAPCtools writes it; the spec's 2023-07-draft became it):
test_group.yaml, per-test .yaml files, constants, and what is refused rather than graded by
other rules than the package's. They were read as 2023-07-draft: test_group.yaml was not
read at all, and BAPCtools' fltcmp (float_tolerance 1e-6 there) graded its accepted
submission WA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_format_icpc import write

import store
from store.formats import icpc
from store.problems import ProblemError

HEAD = "problem_format_version: 2025-09\nname: {name}\nuuid: 8ee7605a-0000-0000-0000-000000000000\n"


def package(root: Path, extra: dict[str, str] | None = None, head: str = "") -> Path:
    return write(root, {
        "problem.yaml": HEAD.format(name="Float") + head,
        "data/test_group.yaml": 'output_validator_args: [float_tolerance, "1E-6"]\n',
        "data/sample/1.in": "1\n", "data/sample/1.ans": "0.5\n",
        "data/secret/1.in": "3\n", "data/secret/1.ans": "0.333333\n",
        "submissions/accepted/a.py": "print(1 / int(input()))\n",
        **(extra or {}),
    })  # fmt: skip


def test_test_group_yaml_is_read(tmp_path: Path) -> None:
    p = icpc.load(package(tmp_path / "p"))
    assert p["package"]["version"] == "2025-09"
    assert p["checker"] == {"type": "tokens", "case_sensitive": False,
                            "space_change_sensitive": False, "float_tolerance": 1e-6}  # fmt: skip
    store.validate(p)
    # The same file in a 2023-07-draft package is not that version's (testdata.yaml is).
    root = tmp_path / "p"
    (root / "problem.yaml").write_text("problem_format_version: 2023-07-draft\nname: Float\n")
    assert "float_tolerance" not in icpc.load(root)["checker"]


def test_constants_are_replaced_where_the_format_says(tmp_path: Path) -> None:
    root = package(tmp_path / "c", head="constants:\n  maxn: 100\n  eps:\n    value: 1E-6\n    tex: 10^{-6}\n", extra={
        "data/test_group.yaml": "output_validator_args: [float_tolerance, '{{eps}}']\n"
                                "input_validator_args: [--max, '{{maxn}}']\n",
        "data/secret/2.in": "{{maxn}}\n", "data/secret/2.ans": "0.01\n",
        "input_validators/v.py": "MAX = {{maxn}}\n",
        "submissions/accepted/a.py": "N = {{ maxn }}  # not a constant: spaces\nprint({{maxn}})\n",
        "statement/problem.en.tex": "\\problemname{Float}\nAt most $\\constant{maxn}$, "
                                    "within $\\constant{eps.tex}$.\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert p["checker"]["float_tolerance"] == 1e-6
    (validator,) = p["input_validators"]
    assert validator["source"] == "MAX = 100\n" and validator["flags"] == ["--max", "100"]
    (sub,) = p["submissions"]
    assert sub["source"] == "N = {{ maxn }}  # not a constant: spaces\nprint(100)\n"
    assert "At most $100$, within $10^{-6}$" in p["statement"]
    # Never in the tests.
    assert [t["input"] for t in p["tests"]] == [b"1\n", b"3\n", b"{{maxn}}\n"]


def test_a_tests_own_yaml_gives_its_input_validator_arguments(tmp_path: Path) -> None:
    root = package(tmp_path / "t", {
        "data/secret/1.yaml": "input_validator_args: [--small, 'a b']\nhint: one line\n",
        "input_validators/v.py": "pass\n",
    })  # fmt: skip
    (validator,) = icpc.load(root)["input_validators"]
    assert validator["test_flags"] == {"2": ["--small", "a b"]}  # test 1 is the sample


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"problem.yaml": "problem_format_version: 2026-01\nname: X\n"},
         "problem_format_version '2026-01' is not one this judge reads"),
        ({"problem.yaml": HEAD.format(name="S") + "type: scoring\n"},
         "scoring by the 2025-09 rules"),
        ({"data/secret/test_group.yaml": "max_score: 50\n"},
         "data/secret/test_group.yaml: max_score: scoring by the 2025-09 rules"),
        ({"data/test_group.yaml": "args: [--fast]\n"},
         "data/test_group.yaml: args: arguments to submissions are not supported"),
        ({"data/secret/1.yaml": "args: [--fast]\n"},
         "data/secret/1.yaml: args: arguments to submissions are not supported"),
        ({"data/secret/1.yaml": "output_validator_args: [case_sensitive]\n"},
         "output_validator_args of one test are not supported"),
        ({"static_validator/check.py": "pass\n"}, "static validation of submissions"),
        ({"problem.yaml": HEAD.format(name="C") + "constants:\n  1bad: 3\n"},
         "constants: '1bad' is not a valid name"),
    ],
    ids=["version", "scoring", "max_score", "group-args", "test-args", "test-checker-args",
         "static", "constant-name"],
)  # fmt: skip
def test_what_would_be_graded_by_other_rules_is_refused(
    tmp_path: Path, files: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProblemError, match=message.replace("(", r"\(").replace("'", ".")):
        icpc.load(package(tmp_path / "r", files))


def test_submissions_yaml_is_named_as_not_read(tmp_path: Path) -> None:
    root = package(tmp_path / "s", {"submissions/submissions.yaml": "accepted:\n  permitted: [AC]\n"})
    skipped = icpc.load(root)["package"]["skipped"]
    assert any(s.startswith("submissions/submissions.yaml: not read") for s in skipped)
