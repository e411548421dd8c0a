"""Scoring trees: score, maximum, skipped tests and the summary (docs/problem-format.md)."""

from __future__ import annotations

from typing import Any

from store import Verdict
from store.scoring import validate_tree
from worker.scoring import (
    TestInfo,
    TestOutcome,
    summarize_tree,
    tree_max,
    tree_score,
    tree_skips,
)

AC, WA, TLE, SK = Verdict.AC, Verdict.WA, Verdict.TLE, Verdict.SK


def _g(name: str, *children: Any, **fields: Any) -> dict[str, Any]:
    return {"name": name, "children": list(children), **fields}


def _t(i: int) -> dict[str, int]:
    return {"test": i}


def _tree(raw: dict[str, Any], n: int) -> dict[str, Any]:
    return validate_tree(raw, n)  # as stored: the worker reads validated, normalised trees


def _o(i: int, v: Verdict, points: float = 0.0, cpu: float | None = 0.1) -> TestOutcome:
    return TestOutcome(i, v, points, cpu, 10)


def _ac(tests: list[TestInfo], *indices: int) -> list[TestOutcome]:
    by = {t.index: t for t in tests}
    return [_o(i, AC, by[i].points) for i in indices]


# ICPC-like: samples (0 points, given by the importer) then two secret groups summed.
ICPC = _tree(
    _g(
        "",
        _g("sample", _t(1), _t(2)),
        _g("secret/g1", _t(3), _t(4), aggregation="min", on_reject="continue"),
        _g("secret/g2", _t(5), _t(6)),
        on_reject="continue",
    ),
    6,
)
ICPC_TESTS = [
    TestInfo(1, None, 0),
    TestInfo(2, None, 0),
    TestInfo(3, None, 30),
    TestInfo(4, None, 30),
    TestInfo(5, None, 35),
    TestInfo(6, None, 35),
]


def test_icpc_like_sum_of_groups_with_zero_point_samples() -> None:
    assert tree_max(ICPC, ICPC_TESTS) == 0 + 30 + 70
    outcomes = [*_ac(ICPC_TESTS, 1, 3, 4, 5, 6), _o(2, WA)]
    assert tree_score(ICPC, outcomes) == 100  # the failed sample costs nothing
    outcomes = [*_ac(ICPC_TESTS, 1, 2, 3, 5, 6), _o(4, WA, 12)]  # partial from the checker
    assert tree_score(ICPC, outcomes) == 12 + 70  # min(30, 12)


def test_missing_and_skipped_tests_score_zero() -> None:
    assert tree_score(ICPC, []) == 0
    assert tree_score(ICPC, [*_ac(ICPC_TESTS, 3, 4), _o(5, SK, 35)]) == 30


def test_nested_sum_and_min() -> None:
    tree = _tree(
        _g(
            "",
            _g("a", _g("a1", _t(1), _t(2)), _g("a2", _t(3)), aggregation="min"),
            _g("b", _g("b1", _t(4), aggregation="min"), _t(5)),
            _g("empty", aggregation="min"),
        ),
        5,
    )
    outcomes = [_o(1, AC, 4), _o(2, WA, 3), _o(3, AC, 10), _o(4, WA, 2.5), _o(5, AC, 1)]
    assert tree_score(tree, outcomes) == min(4 + 3, 10) + 2.5 + 1 + 0
    tests = [TestInfo(i, None, p) for i, p in ((1, 4), (2, 4), (3, 10), (4, 5), (5, 1))]
    assert tree_max(tree, tests) == 8 + 5 + 1


def test_all_gives_its_points_or_the_sum_only_when_every_test_is_ac() -> None:
    tree = _tree(
        _g(
            "",
            _g("fixed", _t(1), _t(2), aggregation="all", points=25),
            _g("summed", _t(3), _g("inner", _t(4)), aggregation="all"),
        ),
        4,
    )
    tests = [TestInfo(i, None, 5) for i in range(1, 5)]
    assert tree_max(tree, tests) == 25 + 10
    assert tree_score(tree, _ac(tests, 1, 2, 3, 4)) == 35
    # partial points on a non-AC test do not rescue an "all" node
    assert tree_score(tree, [*_ac(tests, 1, 3, 4), _o(2, WA, 4)]) == 10
    assert tree_score(tree, [*_ac(tests, 1, 2, 3), _o(4, TLE)]) == 25


# Polygon: complete groups with dependencies (g2 needs g1 needs g0), each worth its test sum.
POLYGON = _tree(
    _g(
        "",
        _g("g0", _t(1), aggregation="all", on_reject="break"),
        _g("g1", _t(2), _t(3), aggregation="all", requires=["g0"]),
        _g("g2", _t(4), _t(5), aggregation="all", requires=["g1"]),
        _g("g3", _t(6), aggregation="all", requires=["g0"], on_reject="continue"),
        on_reject="continue",
    ),
    6,
)
POLYGON_TESTS = [TestInfo(1, "g0", 0)] + [TestInfo(i, None, 20) for i in range(2, 7)]


def test_polygon_complete_groups_with_dependencies() -> None:
    assert tree_max(POLYGON, POLYGON_TESTS) == 100
    all_ac = _ac(POLYGON_TESTS, 1, 2, 3, 4, 5, 6)
    assert tree_score(POLYGON, all_ac) == 100
    # g1 fails: g2 scores nothing even with its own tests AC; g3 needs only g0
    outcomes = [*_ac(POLYGON_TESTS, 1, 2, 4, 5, 6), _o(3, WA)]
    assert tree_score(POLYGON, outcomes) == 20
    # g0 fails: dependencies are transitive, nothing scores
    outcomes = [*_ac(POLYGON_TESTS, 2, 3, 4, 5, 6), _o(1, WA)]
    assert tree_score(POLYGON, outcomes) == 0


def test_polygon_skips_groups_whose_dependencies_failed() -> None:
    # g1 rejected: g1 (break) skips its rest, g2 (break, needs g1) is skipped entirely;
    # g3 needs only g0 and runs; the root (continue) skips nothing
    assert tree_skips(POLYGON, [_o(1, AC), _o(2, WA)]) == {3, 4, 5}
    # g0 rejected: g1 and, through it, g2 are skipped; g3 has on_reject continue: it still runs
    assert tree_skips(POLYGON, [_o(1, WA)]) == {2, 3, 4, 5}
    assert tree_skips(POLYGON, [_o(1, AC), _o(2, AC)]) == set()


def test_break_skips_the_rest_of_the_node_and_continue_does_not() -> None:
    tree = _tree(
        _g(
            "",
            _g("brk", _t(1), _t(2), _t(3)),
            _g("cont", _t(4), _t(5), _t(6), on_reject="continue"),
            on_reject="continue",
        ),
        6,
    )
    assert tree_skips(tree, [_o(1, AC), _o(2, WA)]) == {3}
    assert tree_skips(tree, [_o(4, WA)]) == set()
    # tests already run are not reported; before the rejected one nothing is skipped
    assert tree_skips(tree, [_o(2, TLE), _o(3, AC)]) == set()
    assert tree_skips(tree, [_o(1, SK), _o(4, SK)]) == set()  # SK is not a rejection


def test_rejection_propagates_through_break_parents() -> None:
    tree = _tree(
        _g(
            "",
            _t(1),
            _g("outer", _g("inner", _t(2), _t(3)), _g("after", _t(4)), _t(5)),
            _g("last", _t(6), on_reject="continue"),
        ),
        6,
    )
    # inner rejects at 2: inner skips 3, outer skips 4 and 5, the root (break) skips 6
    assert tree_skips(tree, [_o(1, AC), _o(2, WA)]) == {3, 4, 5, 6}


def test_a_continue_group_runs_to_its_end_before_its_break_parent_stops() -> None:
    tree = _tree(
        _g(
            "",
            _g("cont", _t(1), _t(2), _t(3), on_reject="continue"),
            _g("next", _t(4)),
        ),
        4,
    )
    assert tree_skips(tree, [_o(1, WA)]) == {4}


def test_all_with_break_stops_after_a_rejection() -> None:
    tree = _tree(
        _g(
            "",
            _g("g", _t(1), _t(2), _t(3), aggregation="all", points=10),
            _g("h", _t(4), _t(5), aggregation="all", on_reject="continue"),
            on_reject="continue",
        ),
        5,
    )
    assert tree_skips(tree, [_o(1, WA)]) == {2, 3}
    assert tree_skips(tree, [_o(4, WA)]) == set()


def test_summarize_tree() -> None:
    outcomes = [
        _o(1, AC, 0),
        _o(2, AC, 0, cpu=0.9),
        _o(3, WA, 10),
        _o(4, AC, 30),
        _o(5, TLE, 0, cpu=2.0),
        _o(6, SK, 0, cpu=None),
    ]
    s = summarize_tree(ICPC, ICPC_TESTS, outcomes)
    assert (s.verdict, s.score, s.max_score, s.time, s.memory) == (WA, 10, 100, 2.0, 10)
    s = summarize_tree(ICPC, ICPC_TESTS, _ac(ICPC_TESTS, 1, 2, 3, 4, 5, 6))
    assert (s.verdict, s.score, s.max_score) == (AC, 100, 100)


def test_tests_outside_the_tree_earn_nothing() -> None:
    tree = _tree(_g("", _t(1)), 2)
    tests = [TestInfo(1, None, 5), TestInfo(2, None, 5)]
    assert tree_max(tree, tests) == 5
    assert tree_score(tree, _ac(tests, 1, 2)) == 5
    assert tree_skips(tree, [_o(1, WA)]) == set()


def test_max_and_the_verdict_rules_of_problemtools_grader_flags() -> None:
    """accept_if_any_accepted: a group with one AC is AC (and max keeps its best score);
    always_accept: AC whatever; first_error elsewhere. A group with nothing judged is silent."""
    tree = _tree(
        _g(
            "",
            _g("any", _t(1), _t(2), aggregation="max", on_reject="continue", verdict="any_accepted"),
            _g("always", _t(3), on_reject="continue", verdict="always_accepted"),
            _g("strict", _t(4), _t(5), on_reject="continue"),
            on_reject="continue",
        ),
        5,
    )
    tests = [TestInfo(i, None, p) for i, p in ((1, 10), (2, 30), (3, 5), (4, 1), (5, 1))]
    outcomes = [_o(1, WA, 0), _o(2, AC, 30), _o(3, TLE, 0), _o(4, AC, 1), _o(5, AC, 1)]
    s = summarize_tree(tree, tests, outcomes)
    assert (s.verdict, s.score, s.max_score) == (AC, 32, 37)  # max(0, 30) + 0 + 1 + 1
    # The strict group's rejection decides; the others still are not rejections.
    s = summarize_tree(tree, tests, [*outcomes[:3], _o(4, AC, 1), _o(5, WA, 0)])
    assert (s.verdict, s.score) == (WA, 31)
    # Nothing accepted under "any": its first rejection, in tree order.
    s = summarize_tree(tree, tests, [_o(1, TLE), _o(2, WA), *outcomes[2:]])
    assert s.verdict is TLE
    # All skipped below a node: the node says nothing; the rest decides.
    s = summarize_tree(tree, tests, [_o(1, SK), _o(2, SK), *outcomes[2:]])
    assert s.verdict is AC


def test_break_waits_for_an_any_accepted_group_and_ignores_an_always_accepted_one() -> None:
    tree = _tree(
        _g(
            "",
            _g("any", _t(1), _t(2), on_reject="continue", verdict="any_accepted"),
            _g("always", _t(3), verdict="always_accepted"),
            _g("last", _t(4)),
        ),
        4,
    )
    assert tree_skips(tree, [_o(1, WA)]) == set()  # test 2 may still accept "any"
    assert tree_skips(tree, [_o(1, WA), _o(2, WA)]) == {3, 4}  # "any" is rejected: break
    assert tree_skips(tree, [_o(1, WA), _o(2, AC), _o(3, TLE)]) == set()  # "always" never rejects
