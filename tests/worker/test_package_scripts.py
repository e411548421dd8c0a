"""ICPC package programs given as a directory with ``build`` and/or ``run`` scripts (the
format's "Other programs"): ``build`` runs first, in a copy of the directory, as a POSIX shell
script with cc, c++ and python3 on the path; ``run`` is then the program. They were ignored:
the directory's C file was compiled and called directly, without the arguments or the files
its ``run`` script provides, and every test of the problem was an internal error.

The package here is our own: an output validator that ``build`` compiles and ``run`` calls
with one more argument than the format gives, and an input validator that is a ``run``
script alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from worker_test_kit import write_tree

from store import formats
from web import cli

CHECKER_C = r"""
#include <stdio.h>
#include <string.h>
/* Exit 42 when the output's number equals the answer's; only `run` passes the 4th argument. */
int main(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[4], "from-run") != 0) { fprintf(stderr, "not started by run\n"); return 1; }
    FILE *ans = fopen(argv[2], "r");
    long want, got;
    if (!ans || fscanf(ans, "%ld", &want) != 1) return 1;
    if (scanf("%ld", &got) != 1 || got != want) return 43;
    return 42;
}
"""
BUILD = 'cc -O1 -o checker checker.c\n'
RUN = '#!/bin/sh\nexec "$(dirname "$0")/checker" "$1" "$2" "$3" from-run\n'
# An input validator that is only a run script: a number from 1 to 100 and nothing else.
INPUT_RUN = (
    "#!/bin/sh\nexec python3 -c 'import sys\n"
    "t = sys.stdin.read()\n"
    "sys.exit(42 if t.strip().isdigit() and 1 <= int(t) <= 100 and t == t.strip() + chr(10) else 43)'\n"
)


def _package(root: Path) -> Path:
    return write_tree(root, {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: Square\nlimits:\n  time_limit: 2\n",
        "output_validator/v/build": BUILD,
        "output_validator/v/run": RUN,
        "output_validator/v/checker.c": CHECKER_C,
        "input_validators/range/run": INPUT_RUN,
        "data/secret/1.in": "7\n", "data/secret/1.ans": "49\n",
        "data/secret/2.in": "12\n", "data/secret/2.ans": "144\n",
        "submissions/accepted/sq.py": "n = int(input())\nprint(n * n)\n",
        "submissions/wrong_answer/double.py": "n = int(input())\nprint(2 * n)\n",
    })  # fmt: skip



def test_the_scripts_say_how_the_program_is_built_and_run(tmp_path: Path) -> None:
    p = formats.load_path(_package(tmp_path / "p"))
    checker = p["checker"]
    assert checker["language"] == "icpc-scripts" and checker["source"] == BUILD
    assert set(checker["files"]) == {"run", "checker.c"}
    (validator,) = p["input_validators"]
    assert validator["language"] == "icpc-scripts" and set(validator["files"]) == {"run"}


def test_a_package_with_build_and_run_scripts_is_graded_as_its_authors_say(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "p")
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "p", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["accepted/sq.py"]["verdict"] == "AC"
    assert rows["wrong_answer/double.py"]["verdict"] == "WA"
    # The run-only input validator ran on every test, and refuses a bad one at import.
    (pkg / "data/secret/3.in").write_text("700\n")
    (pkg / "data/secret/3.ans").write_text("490000\n")
    assert cli.main(["problem", "import", "--replace", str(pkg)]) == 2
    assert "test secret/3: rejected by input validator 1" in capsys.readouterr().err


def test_a_build_that_leaves_no_run_file_fails_the_problem_not_the_submission(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "p")
    (pkg / "output_validator/v/run").unlink()
    assert cli.main(["problem", "import", str(pkg)]) == 0
    capsys.readouterr()
    assert cli.main(["problem", "verify", "p", "--json"]) == 1
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert {r["verdict"] for r in rows.values()} == {"IE"}
