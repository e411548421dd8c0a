"""Scoring trees graded for real (a Celery worker, sandboxes): on_reject break skips the rest
of a rejected group, a group that requires a failed one is skipped, and scores add up."""

from __future__ import annotations

from worker_test_kit import Judge

from store import Verdict

TREE = {
    "aggregation": "sum",
    "on_reject": "continue",
    "children": [
        {"name": "easy", "aggregation": "sum", "on_reject": "break",
         "children": [{"test": 1}, {"test": 2}]},
        {"name": "hard", "aggregation": "all", "points": 10, "on_reject": "break",
         "requires": ["easy"], "children": [{"test": 3}, {"test": 4}]},
        {"name": "extra", "aggregation": "min", "on_reject": "continue",
         "children": [{"test": 5}]},
    ],
}  # fmt: skip
TESTS = [{"input": f"{n}\n", "output": f"{2 * n}\n", "points": 3} for n in range(1, 6)]
# Doubles its input, except the numbers it was told to get wrong.
WRONG_ON = "n = int(input())\nprint(2 * n + (n in {bad}))"


def test_tree_scores_and_skips(judge: Judge) -> None:
    judge.add_problem({"slug": "tree-1", "scoring": TREE, "stop_on_failure": False,
                       "tests": TESTS})  # fmt: skip
    full = judge.run("tree-1", "python3", WRONG_ON.format(bad="set()"))
    assert (full.verdict, full.score, full.max_score) == (Verdict.AC, 19.0, 19.0)

    # Test 1 wrong: the rest of "easy" is skipped, "hard" requires it and is skipped too,
    # "extra" (continue, no requirement) still runs and earns its 3 points.
    sub = judge.run("tree-1", "python3", WRONG_ON.format(bad="{1}"))
    verdicts = [r.verdict for r in sub.results]
    assert verdicts == [Verdict.WA, Verdict.SK, Verdict.SK, Verdict.SK, Verdict.AC]
    assert (sub.verdict, sub.score) == (Verdict.WA, 3.0)

    # Test 3 wrong: "hard" is all-or-nothing, so it earns nothing and test 4 is skipped.
    sub = judge.run("tree-1", "python3", WRONG_ON.format(bad="{3}"))
    assert [r.verdict for r in sub.results] == [
        Verdict.AC, Verdict.AC, Verdict.WA, Verdict.SK, Verdict.AC,
    ]  # fmt: skip
    assert sub.score == 9.0


def test_verdict_rules_of_an_icpc_package_graded_for_real(judge: Judge, tmp_path: object) -> None:
    """problemtools' grader flags from a package's testdata.yaml: a group with
    accept_if_any_accepted and max is AC with its best score when one test passes;
    always_accept keeps a failed group from deciding the verdict."""
    from pathlib import Path

    from store.formats import icpc

    root = Path(str(tmp_path)) / "flags"
    files = {
        "problem.yaml": "name: Flags\ntype: scoring\n",
        "data/secret/any/testdata.yaml": "grader_flags: accept_if_any_accepted max\n"
        "on_reject: continue\naccept_score: 10\n",
        "data/secret/any/1.in": "1\n", "data/secret/any/1.ans": "2\n",
        "data/secret/any/2.in": "2\n", "data/secret/any/2.ans": "4\n",
        "data/secret/lenient/testdata.yaml": "grader_flags: always_accept\naccept_score: 5\n",
        "data/secret/lenient/3.in": "3\n", "data/secret/lenient/3.ans": "6\n",
    }  # fmt: skip
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    spec = icpc.load(root)
    judge.add_problem({**spec, "slug": "tree-flags"})
    # Wrong on 1 and 3: "any" is accepted by test 2 (max 10), "lenient" fails but is accepted.
    sub = judge.run("tree-flags", "python3", WRONG_ON.format(bad="{1, 3}"))
    assert [r.verdict for r in sub.results] == [Verdict.WA, Verdict.AC, Verdict.WA]
    assert (sub.verdict, sub.score) == (Verdict.AC, 10.0)
    # Wrong on 1 and 2: nothing in "any" is accepted, so it is rejected by its first
    # rejection, and secret's on_reject break (legacy default) skips "lenient".
    sub = judge.run("tree-flags", "python3", WRONG_ON.format(bad="{1, 2}"))
    assert [r.verdict for r in sub.results] == [Verdict.WA, Verdict.WA, Verdict.SK]
    assert (sub.verdict, sub.score) == (Verdict.WA, 0.0)
