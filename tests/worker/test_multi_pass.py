"""ICPC multi-pass validation (``validation: custom multi-pass``, as DOMjudge's hangman and
jumble examples use it): a validator that accepts a pass and writes
``feedback_dir/nextpass.in`` has the submission run again on that file, up to
``limits.validation_passes``; judgemessage.txt carries over; asking for a pass after the last
is the validator's failure (IE), never the contestant's verdict.

The package here is our own: count from the input up to the answer, one step per pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from worker_test_kit import write_tree

import store
from store import formats
from store.models import TestResult
from web import cli

# Each pass's input is a number k; the submission must print k + 1. The answer is the target.
VALIDATOR = r"""
import os, sys
k = int(open(sys.argv[1]).read())
target = int(open(sys.argv[2]).read())
feedback = sys.argv[3]
got = sys.stdin.read().split()
with open(os.path.join(feedback, "judgemessage.txt"), "a") as msg:
    msg.write(f"pass from {k};")
    if got != [str(k + 1)]:
        msg.write(f" expected {k + 1}, found {got}")
        sys.exit(43)
if k + 1 < target:
    with open(os.path.join(feedback, "nextpass.in"), "w") as nxt:
        nxt.write(f"{k + 1}\n")
sys.exit(42)
"""

STEP = "print(int(input()) + 1)\n"
JUMP = "print(int(input()) + 2)\n"  # right on the first pass from 1 to 3 only by luck: WA


def _package(root: Path, passes: int, target: int) -> Path:
    files = {
        "problem.yaml": (
            "problem_format_version: 2023-07-draft\nname: Count\ntype: multi-pass\n"
            f"limits:\n  time_limit: 2\n  validation_passes: {passes}\n"
        ),
        "output_validator/validate.py": VALIDATOR,
        "data/secret/1.in": "0\n",
        "data/secret/1.ans": f"{target}\n",
        "submissions/accepted/step.py": STEP,
        "submissions/wrong_answer/jump.py": JUMP,
    }
    return write_tree(root, files)



def test_the_passes_come_from_the_package(tmp_path: Path) -> None:
    p = formats.load_path(_package(tmp_path / "p", 4, 3))
    assert p["checker"]["passes"] == 4 and p["checker"]["protocol"] == "icpc"
    (tmp_path / "p" / "problem.yaml").write_text(
        "problem_format_version: 2023-07-draft\nname: C\ntype: multi-pass\n"
    )
    assert formats.load_path(tmp_path / "p")["checker"]["passes"] == 2  # the format's default


def test_each_pass_runs_on_the_last_ones_nextpass(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # 0 -> 1 -> 2 -> 3: three passes, the third accepts without asking for more.
    assert cli.main(["problem", "import", str(_package(tmp_path / "p", 3, 3))]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "p", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["accepted/step.py"]["verdict"] == "AC"
    assert rows["wrong_answer/jump.py"]["verdict"] == "WA"


def test_a_pass_after_the_last_is_the_validators_failure(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Counting to 5 needs five passes; the package allows two.
    assert cli.main(["problem", "import", str(_package(tmp_path / "p", 2, 5))]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "p", "--json"]) == 1
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["accepted/step.py"]["verdict"] == "IE"
    assert rows["accepted/step.py"]["mismatches"] == ["1: IE"]
    assert rows["wrong_answer/jump.py"]["verdict"] == "WA"  # failed in its first pass
    assert _message(db, rows["accepted/step.py"]["submission_id"]) == (
        "checker asked for another pass after the last of 2"
    )


def _message(db: str, submission_id: int) -> str:
    with store.session_factory(store.make_engine(db))() as s:
        (result,) = s.query(TestResult).filter(TestResult.submission_id == submission_id).all()
        return str(result.message)


def test_the_judge_message_carries_over_between_passes(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "p", 3, 3)
    (pkg / "submissions/wrong_answer/late.py").write_text(
        "k = int(input())\nprint(k + 1 if k < 2 else 0)\n"  # right twice, wrong in pass 3
    )
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "p", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["wrong_answer/late.py"]["verdict"] == "WA"
    said = _message(db, rows["wrong_answer/late.py"]["submission_id"])
    assert said == "pass from 0;pass from 1;pass from 2; expected 3, found ['0']"


@pytest.mark.parametrize(
    ("checker", "message"),
    [
        ({"protocol": "testlib", "passes": 2}, "only an icpc validator"),
        ({"protocol": "icpc", "passes": 0}, "a whole number from 1 to 100"),
        ({"protocol": "icpc", "passes": True}, "a whole number from 1 to 100"),
    ],
)
def test_passes_belong_to_icpc_validators(checker: dict[str, object], message: str) -> None:
    spec = {
        "slug": "c",
        "title": "C",
        "tests": [{"input": "0\n", "output": "1\n"}],
        "checker": {"type": "custom", "language": "python3", "source": "pass", **checker},
    }
    with pytest.raises(store.ProblemError, match=message):
        store.validate(spec)


# Interactive multi-pass: each pass, the interactor says k to a fresh run of the submission
# and wants k + 1 back; it asks for another pass until the target.
INTERACTOR = r"""
import os, sys
k = int(open(sys.argv[1]).read())
target = int(open(sys.argv[2]).read())
feedback = sys.argv[3]
print(k, flush=True)
got = sys.stdin.readline().split()
with open(os.path.join(feedback, "judgemessage.txt"), "a") as msg:
    msg.write(f"talked from {k};")
    if got != [str(k + 1)]:
        msg.write(f" expected {k + 1}, found {got}")
        sys.exit(43)
if k + 1 < target:
    with open(os.path.join(feedback, "nextpass.in"), "w") as nxt:
        nxt.write(f"{k + 1}\n")
sys.exit(42)
"""


def _interactive_package(root: Path, passes: int, target: int) -> Path:
    files = {
        "problem.yaml": (
            "problem_format_version: 2023-07-draft\nname: Talk\ntype:\n  - interactive\n"
            f"  - multi-pass\nlimits:\n  time_limit: 2\n  validation_passes: {passes}\n"
        ),
        "output_validator/interact.py": INTERACTOR,
        "data/secret/1.in": "0\n",
        "data/secret/1.ans": f"{target}\n",
        "submissions/accepted/step.py": STEP,
        "submissions/wrong_answer/jump.py": JUMP,
        "submissions/wrong_answer/late.py": "k = int(input())\nprint(k + 1 if k < 2 else 0)\n",
    }
    return write_tree(root, files)


def test_an_interactive_problem_talks_once_per_pass(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was graded in one pass: a submission wrong only in a later pass got AC."""
    pkg = _interactive_package(tmp_path / "t", 3, 3)
    assert formats.load_path(pkg)["interactor"]["passes"] == 3
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "t", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["accepted/step.py"]["verdict"] == "AC"
    assert rows["wrong_answer/jump.py"]["verdict"] == "WA"
    assert rows["wrong_answer/late.py"]["verdict"] == "WA"
    assert _message(db, rows["wrong_answer/late.py"]["submission_id"]) == (
        "talked from 0;talked from 1;talked from 2; expected 3, found ['0']"
    )


def test_an_interactors_pass_after_the_last_is_its_failure(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["problem", "import", str(_interactive_package(tmp_path / "t", 2, 5))]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "t", "--json"]) == 1
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["accepted/step.py"]["verdict"] == "IE"
    assert _message(db, rows["accepted/step.py"]["submission_id"]) == (
        "interactor asked for another pass after the last of 2"
    )


def test_interactor_passes_belong_to_icpc_interactors() -> None:
    spec = {
        "slug": "c",
        "tests": [{"input": "0\n", "output": "1\n"}],
        "interactor": {"language": "python3", "source": "pass", "passes": 2},
    }
    with pytest.raises(store.ProblemError, match=r"interactor\.passes: only an icpc validator"):
        store.validate(spec)


# The format keeps every file of the feedback directory but nextpass.in from one pass to the
# next: a validator may keep its state there (BAPCtools' validation.h keeps a ".pass" file).
# This one records each pass it accepted in state/seen.txt and fails (exit 1, a judge error)
# when the record is lost or the last pass's nextpass.in is still there.
KEEPS_STATE = r"""
import os, sys
k = int(open(sys.argv[1]).read())
feedback = sys.argv[3]
state = os.path.join(feedback, "state", "seen.txt")
seen = open(state).read().split() if os.path.exists(state) else []
if seen != [str(i) for i in range(k)] or os.path.exists(os.path.join(feedback, "nextpass.in")):
    print(f"pass {k}: feedback lost, seen {seen}", file=sys.stderr)
    sys.exit(1)
os.makedirs(os.path.dirname(state), exist_ok=True)
with open(state, "a") as record:
    record.write(f"{k}\n")
"""


@pytest.mark.parametrize("interactive", [False, True], ids=["checker", "interactor"])
def test_the_whole_feedback_directory_persists_between_passes(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str], interactive: bool
) -> None:
    """Only judgemessage.txt was carried: a validator keeping state failed in pass 2 (IE)."""
    pkg = (_interactive_package if interactive else _package)(tmp_path / "s", 4, 4)
    validator = pkg / "output_validator" / ("interact.py" if interactive else "validate.py")
    body = validator.read_text().replace("feedback = sys.argv[3]\n", "", 1)
    validator.write_text(KEEPS_STATE + body.split("\n", 3)[3])  # after its first 3 lines
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "s", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["accepted/step.py"]["verdict"] == "AC"
    assert rows["wrong_answer/jump.py"]["verdict"] == "WA"
