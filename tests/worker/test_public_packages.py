"""Real problems, graded unchanged: every example package of Kattis problemtools and DOMjudge
imports with ``judge problem import`` and ``judge problem verify`` gives each shipped
submission whose language is installed here its expected verdict.

The packages are third-party files and stay outside this repository. Point
``JUDGE_PUBLIC_PACKAGES`` at a directory holding them, unchanged, in any layout, e.g.::

    git -C problemtools archive HEAD examples | tar -x -C "$DIR/problemtools"
    git -C domjudge archive HEAD example_problems example_scoring_problems | tar -x -C "$DIR/domjudge"

Every directory with a ``problem.yaml`` below it is a package, named by its last two path parts
(``examples/different``, ``example_problems/hello``). Without the variable the tests skip.

What may differ is listed below, each entry with its reason, and checked both ways: a listed
submission must still be there and still get a verdict other than its expected one, so the
list cannot go stale. The only exceptions the issue allows are DOMjudge's own environment
probes (ENVIRONMENT_PROBES). NOT_YET_MATCHING holds what differs for another reason: each is a
judging-policy question still open, not an allowed exception.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from worker import languages

PACKAGES_VAR = "JUDGE_PUBLIC_PACKAGES"
DOMJUDGE_FOLDERS = ("example_problems", "example_scoring_problems")


@dataclass(frozen=True)
class Deviation:
    package: str  # the last two path parts of the package directory
    submission: str  # the name verify gives it: path under submissions/
    probe: str  # what of DOMjudge's environment it checks (ENVIRONMENT_PROBES), or the topic
    reason: str


# What each DOMjudge probe checks. An entry of ENVIRONMENT_PROBES must name one of these.
PROBES = {
    "chroot": "that it runs in DOMjudge's chroot",
    "cpu pinning": "that the judgehost pins every process of a run to one CPU core",
    "DOMjudge-only file": "a file that only DOMjudge's chroot holds",
    "read-only working directory": "DOMjudge's working directory, where nothing can be written",
    "stack rlimit": "the thread stack size DOMjudge's unlimited stack rlimit gives",
    "TMPDIR layout": "DOMjudge's per-test TMPDIR path",
}

ENVIRONMENT_PROBES = (
    Deviation(
        "example_problems/hello", "run_time_error/test-chroot-escape.sh", "chroot",
        "expects ischroot to find DOMjudge's chroot and the escape to fail (RE); our box is its "
        "own mount namespace with pivot_root, not a chroot, so it prints Hello world! (AC)",
    ),
    Deviation(
        "example_problems/hello", "wrong_answer/test-cpu-pinning.c", "cpu pinning",
        "forks 10 children and exits 1 (RE) when one runs on another core than the parent; we "
        "limit a box's CPU time, not its cores, so the kernel may move them",
    ),
    Deviation(
        "example_problems/hello", "wrong_answer/test-permissions.c", "DOMjudge-only file",
        "expects EACCES opening /etc/root-permission-test.txt, which only DOMjudge's chroot "
        "has; in our box the file does not exist (ENOENT) and it exits 1 (RE)",
    ),
    Deviation(
        "example_problems/hello", "wrong_answer/test-write-file.c",
        "read-only working directory",
        "expects its working directory to be read-only, as DOMjudge makes it; our /box is a "
        "writable per-run tmpfs (discarded after the run), so it exits 1 (RE)",
    ),
    Deviation(
        "example_problems/hello", "multiple/test-multithread.c", "stack rlimit",
        "aborts (RE) unless a thread's default stack is glibc's 2 MiB, which an unlimited stack "
        "rlimit gives; our runs' stack rlimit is the memory limit, which glibc uses instead",
    ),
    Deviation(
        "example_problems/fltcmp", "accepted/fltcmp-test-write-files-between-testcases.R",
        "TMPDIR layout",
        "quits before answering (WA) unless TMPDIR is DOMjudge's /testcaseNNNNN/write_tmp",
    ),
    Deviation(
        "example_problems/fltcmp", "accepted/fltcmp-test-write-files-between-submissions.R",
        "TMPDIR layout",
        "the same program as the one above (a symbolic link), submitted twice by DOMjudge",
    ),
)  # fmt: skip

# Not DOMjudge environment probes: open judging-policy questions, each of which would block
# issue 13. None is left: test-memstatic.cc (a 512 MiB binary) compiles under DOMjudge's compile
# limits, which its packages now get.
NOT_YET_MATCHING: tuple[Deviation, ...] = ()

# Submissions the importer leaves out on purpose, with the note it writes: nothing else may
# vanish between the package and verify's table.
NOT_IMPORTED = {
    ("examples/different", "submissions/slow_accepted/different_slow.py"):
        "folder 'slow_accepted' names no verdict",  # problemtools does not run it either
    ("example_problems/hello", "submissions/check_manually/bad-expected-result-multifile"):
        "@EXPECTED_RESULTS@: unknown result 'tags.'",
    ("example_problems/hello", "submissions/check_manually/bad-expected-result-sourcesize.c"):
        "folder 'check_manually' names no verdict",
    ("example_problems/hello", "submissions/check_manually/test-fill-syslog.c"):
        "@EXPECTED_RESULTS@: unknown result 'CHECK-MANUALLY'",
    ("example_problems/hello", "submissions/check_manually/test-fork-parent-exit2.c"):
        "@EXPECTED_RESULTS@: unknown result 'CHECK-MANUALLY'",
    ("example_problems/hello", "submissions/compiler_error/bogus-filename"):
        "@EXPECTED_RESULTS@: unknown result 'NONE-SUBMIT-FAILS'",
}  # fmt: skip


def _packages() -> dict[str, Path]:
    root = os.environ.get(PACKAGES_VAR)
    if not root:
        return {}
    found: dict[str, Path] = {}
    for yaml in sorted(Path(root).rglob("problem.yaml")):
        if "submissions" in yaml.parts or "data" in yaml.parts:
            continue
        package = yaml.parent
        found[f"{package.parent.name}/{package.name}"] = package
    return found


PACKAGES = _packages()


def test_every_exception_names_a_domjudge_environment_probe() -> None:
    assert len({(d.package, d.submission) for d in ENVIRONMENT_PROBES + NOT_YET_MATCHING}) == (
        len(ENVIRONMENT_PROBES) + len(NOT_YET_MATCHING)
    )
    for d in ENVIRONMENT_PROBES:
        assert d.package.split("/")[0] in DOMJUDGE_FOLDERS, d  # DOMjudge's probes only
        assert d.probe in PROBES, d
        assert len(d.reason) > 40 and d.submission, d
    for d in NOT_YET_MATCHING:
        assert d.probe not in PROBES and len(d.reason) > 40, d



@pytest.mark.skipif(not PACKAGES, reason=f"{PACKAGES_VAR} names no directory of packages")
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_public_package_imports_and_verifies(
    name: str, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import store
    from web import cli

    path = PACKAGES[name]
    assert cli.main(["problem", "import", str(path)]) == 0, capsys.readouterr().err
    imported = capsys.readouterr().out.strip().splitlines()[-1]
    slug = imported.split()[1].rstrip(":")

    with store.session_factory(store.make_engine(db))() as s:
        problem = s.query(store.Problem).filter_by(slug=slug).one()
        skipped = list((problem.package or {}).get("skipped", []))
    left_out = {
        (name, note.split(": ")[0]): note.split(": ", 1)[1]
        for note in skipped
        if note.startswith("submissions/")
    }
    assert left_out == {k: v for k, v in NOT_IMPORTED.items() if k[0] == name}

    cli.main(["problem", "verify", slug, "--json"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = {row["name"]: row for row in report["rows"]}
    listed = {d.submission: d for d in ENVIRONMENT_PROBES + NOT_YET_MATCHING if d.package == name}
    assert set(listed) <= set(rows), f"listed but not shipped: {set(listed) - set(rows)}"

    wrong = []
    for sub, row in rows.items():
        if not row["graded"]:
            # Only a language this host lacks leaves a row ungraded, and it says so.
            lang = languages.known(row["language"])
            assert lang is None or not lang.available(), row
            assert "is not installed here" in row["note"], row
            continue
        if sub in listed:
            assert not row["ok"], f"{sub} now gets its expected verdict: drop it from the list"
        elif not row["ok"]:
            wrong.append(f"{sub}: expected {row['expected']}, got {row['verdict']} {row['note']}")
    assert not wrong, "\n".join(wrong)
