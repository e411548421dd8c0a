"""Scoring-tree validation: normalisation and one-line errors naming the node and field."""

from __future__ import annotations

from typing import Any

import pytest

import store
from store import ProblemError
from store.scoring import MAX_DEPTH, validate_tree


def _g(name: str, *children: Any, **fields: Any) -> dict[str, Any]:
    return {"name": name, "children": list(children), **fields}


def _t(i: int) -> dict[str, int]:
    return {"test": i}


def test_defaults_are_filled_in() -> None:
    tree = validate_tree({"children": [_t(1), {"name": "g", "children": [_t(2)]}]}, 2)
    assert tree == {
        "name": "",
        "aggregation": "sum",
        "on_reject": "break",
        "verdict": "first_error",
        "points": None,
        "requires": [],
        "children": [
            {"test": 1},
            {
                "name": "g",
                "aggregation": "sum",
                "on_reject": "break",
                "verdict": "first_error",
                "points": None,
                "requires": [],
                "children": [{"test": 2}],
            },
        ],
    }


def test_full_tree_kept() -> None:
    raw = _g(
        "",
        _g("g0", _t(1), aggregation="all", points=0),
        _g("g1", _t(2), _t(3), aggregation="all", points=40, requires=["g0"]),
        _g("g2", _g("g2a", _t(4)), aggregation="min", on_reject="continue", requires=["g0", "g1"]),
    )
    tree = validate_tree(raw, 4)
    assert tree["children"][1]["points"] == 40
    assert tree["children"][2]["requires"] == ["g0", "g1"]
    assert tree["children"][2]["on_reject"] == "continue"
    assert tree["children"][2]["children"][0]["name"] == "g2a"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "a scoring tree is an object"),
        (_t(1), "the root must be a group node"),
        (
            _g("", _g("secret/g1", _t(1), aggregation="product")),
            "node 'secret/g1': aggregation must be sum, min, max, avg or all",
        ),
        (_g("g", _t(1), on_reject="stop"), "node 'g': on_reject must be break or continue"),
        (
            _g("g", _t(1), verdict="worst_error"),
            "node 'g': verdict must be first_error, any_accepted or always_accepted",
        ),
        (_g("g", _t(1), points=-1), "node 'g': points must be a finite number >= 0"),
        (_g("g", _t(1), points="5"), "node 'g': points must be a number or null"),
        (_g("g", _t(1), points=True), "node 'g': points must be a number or null"),
        (_g("g", _t(1), weight=2), "node 'g': unknown field 'weight'"),
        (_g("", _t(0)), "test 0 does not exist (tests are 1..2)"),
        (_g("", _t(3)), "test 3 does not exist (tests are 1..2)"),
        (_g("", {"test": "1"}), "test must be an integer"),
        (_g("", {"test": 1, "points": 5}), "has unknown field 'points'"),
        (_g("", _t(1), _g("g", _t(1))), "node 'g': test 1 appears more than once"),
        (_g("", _g("", _t(1), 7)), "node root.children[0].children[1]: an object is expected"),
        (_g("", _g("g", _t(1)), _g("g", _t(2))), "node 'g': name used twice"),
        (_g("", _g("g", _t(1), requires=["h"])), "node 'g': requires unknown node 'h'"),
        (_g("", _g("g", _t(1), requires="h")), "node 'g': requires must be a list of node names"),
        (_g("", _g("g", _t(1), requires=["g"])), "node 'g': requires 'g', which is itself"),
        (_g("a", _g("b", _t(1), requires=["a"])), "node 'b': requires 'a', which is itself"),
        (_g("", _g("g", _t(1)), children=5), "children must be a list"),
        (_g("", {"name": 3, "children": []}), "node root.children[0]: name must be a string"),
    ],
)
def test_errors(raw: Any, message: str) -> None:
    with pytest.raises(ValueError) as e:
        validate_tree(raw, 2)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_cycle_through_requires() -> None:
    raw = _g(
        "",
        _g("a", _t(1), requires=["c"]),
        _g("b", _t(2), requires=["a"]),
        _g("c", _t(3), requires=["b"]),
    )
    with pytest.raises(ValueError, match="requires form a cycle: c -> b -> a -> c"):
        validate_tree(raw, 3)


def test_requires_without_cycle_is_fine() -> None:
    raw = _g(
        "",
        _g("a", _t(1)),
        _g("b", _t(2), requires=["a"]),
        _g("c", _t(3), requires=["a", "b"]),
        _g("d", _t(4), requires=["c", "a"]),
    )
    assert validate_tree(raw, 4)["children"][3]["requires"] == ["c", "a"]


def test_deep_nesting_refused_without_recursion_error() -> None:
    tree: dict[str, Any] = _t(1)
    for _ in range(100_000):  # far past Python's recursion limit
        tree = {"children": [tree]}
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels"):
        validate_tree(tree, 1)


def test_nesting_just_under_the_limit_is_fine() -> None:
    tree: dict[str, Any] = _t(1)
    for _ in range(MAX_DEPTH):
        tree = {"children": [tree]}
    validate_tree(tree, 1)


def test_too_many_groups() -> None:
    raw = _g("", *({"children": []} for _ in range(20_000)))
    with pytest.raises(ValueError, match="group nodes"):
        validate_tree(raw, 1)


def test_problem_import_reports_scoring_errors_as_problem_errors() -> None:
    data = {
        "slug": "s",
        "title": "S",
        "time_limit": 1.0,
        "checker": {"type": "tokens"},
        "tests": [{"input": "1\n", "output": "1\n"}],
        "scoring": _g("", _g("secret/g1", _t(1), aggregation="product")),
    }
    with pytest.raises(ProblemError, match="scoring: node 'secret/g1': aggregation must be"):
        store.validate(data)
    data["scoring"] = _g("", _t(1))
    assert store.validate(data).scoring == validate_tree(_g("", _t(1)), 1)
