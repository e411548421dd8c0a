from __future__ import annotations

from store import Verdict
from worker.scoring import TestInfo, TestOutcome, earned, summarize

TESTS = [
    TestInfo(1, "a", 5),
    TestInfo(2, "a", 5),
    TestInfo(3, "b", 10),
    TestInfo(4, None, 3),
    TestInfo(5, None, 7),
]


def _o(
    i: int, v: Verdict, points: float = 0, cpu: float | None = 0.1, mem: int | None = 10
) -> TestOutcome:
    return TestOutcome(i, v, points, cpu, mem)


def test_groups_all_or_nothing_and_loose_tests_alone() -> None:
    outcomes = [
        _o(1, Verdict.AC, 5),
        _o(2, Verdict.WA),
        _o(3, Verdict.AC, 10, cpu=0.7),
        _o(4, Verdict.AC, 3, mem=99),
        _o(5, Verdict.WA, 2.5),  # partial credit from a custom checker
    ]
    s = summarize(TESTS, outcomes)
    assert (s.verdict, s.score, s.max_score, s.time, s.memory) == (Verdict.WA, 15.5, 30, 0.7, 99)


def test_first_failing_test_decides_and_skips_do_not_count() -> None:
    outcomes = [_o(1, Verdict.AC, 5), _o(2, Verdict.TLE), _o(3, Verdict.SK, cpu=None, mem=None)]
    s = summarize(TESTS, outcomes)
    assert (s.verdict, s.score, s.time) == (Verdict.TLE, 0, 0.1)


def test_all_accepted() -> None:
    outcomes = [_o(t.index, Verdict.AC, t.points) for t in TESTS]
    s = summarize(TESTS, outcomes)
    assert (s.verdict, s.score) == (Verdict.AC, 30)


def test_earned() -> None:
    assert earned(10, Verdict.AC, None) == 10
    assert earned(10, Verdict.WA, None) == 0
    assert earned(10, Verdict.WA, 4) == 4
    assert earned(10, Verdict.WA, 40) == 10
    assert earned(10, Verdict.WA, -1) == 0
