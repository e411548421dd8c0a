"""Scoring trees (docs/problem-format.md): validation only; worker.scoring evaluates them.

``validate_tree`` returns a normalised copy in which every group node has all seven keys
(``name``, ``aggregation``, ``on_reject``, ``verdict``, ``points``, ``requires``, ``children``)
and every
leaf is ``{"test": i}``, so the worker can read a stored tree without defaults of its own.
Errors name the node, by its name or, for an unnamed node, by its position from the root
(``root.children[2]``); store.problems prefixes them with ``scoring:``.
"""

from __future__ import annotations

import math
from typing import Any

AGGREGATIONS = ("sum", "min", "max", "avg", "all")
ON_REJECT = ("break", "continue")
# How a group's verdict follows from its children's (problemtools' default grader flags):
# the first rejection; AC if any child is accepted; AC whatever the children got.
VERDICT_RULES = ("first_error", "any_accepted", "always_accepted")
# ICPC's default: once a test of a group is rejected, the rest of that group is not run.
DEFAULT_ON_REJECT = "break"
MAX_DEPTH = 32
MAX_GROUPS = 10_000  # group nodes; leaves are bounded by the number of tests
MAX_NAME = 256
_KEYS = frozenset(
    ("name", "aggregation", "on_reject", "verdict", "points", "requires", "children")
)


class _Walk:
    """State shared across the walk: names seen, tests seen, group count."""

    def __init__(self, n_tests: int) -> None:
        self.n_tests = n_tests
        self.tests: set[int] = set()
        self.names: dict[str, str] = {}  # name -> its position, for duplicate messages
        self.groups = 0


def validate_tree(tree: Any, n_tests: int) -> dict[str, Any]:
    """The tree, checked and normalised; ValueError naming the bad node otherwise."""
    if not isinstance(tree, dict):
        raise ValueError("a scoring tree is an object")
    if "test" in tree:
        raise ValueError("the root must be a group node, not a test")
    walk = _Walk(n_tests)
    root = _node(tree, "root", 0, walk)
    _check_requires(root, walk)
    return root


def _label(name: str, where: str) -> str:
    return f"node '{name}'" if name else f"node {where}"


def _node(raw: Any, where: str, depth: int, walk: _Walk) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"node {where}: an object is expected")
    if depth >= MAX_DEPTH:
        raise ValueError(f"node {where}: nested deeper than {MAX_DEPTH} levels")
    walk.groups += 1
    if walk.groups > MAX_GROUPS:
        raise ValueError(f"more than {MAX_GROUPS} group nodes")
    name = raw.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise ValueError(f"node {where}: name must be a string of at most {MAX_NAME} characters")
    label = _label(name, where)
    unknown = sorted(str(k) for k in raw if k not in _KEYS)
    if unknown:
        raise ValueError(f"{label}: unknown field {unknown[0]!r}")
    if name:
        if name in walk.names:
            raise ValueError(f"{label}: name used twice ({walk.names[name]} and {where})")
        walk.names[name] = where
    aggregation = raw.get("aggregation", "sum")
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"{label}: aggregation must be sum, min, max, avg or all")
    on_reject = raw.get("on_reject", DEFAULT_ON_REJECT)
    if on_reject not in ON_REJECT:
        raise ValueError(f"{label}: on_reject must be break or continue")
    verdict = raw.get("verdict", "first_error")
    if verdict not in VERDICT_RULES:
        raise ValueError(f"{label}: verdict must be first_error, any_accepted or always_accepted")
    points = raw.get("points")
    if points is not None:
        # Kept on sum/min nodes too (an importer may carry it through), where it is ignored.
        if isinstance(points, bool) or not isinstance(points, (int, float)):
            raise ValueError(f"{label}: points must be a number or null")
        if not math.isfinite(points) or points < 0:
            raise ValueError(f"{label}: points must be a finite number >= 0")
    requires = raw.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) and r for r in requires):
        raise ValueError(f"{label}: requires must be a list of node names")
    children = raw.get("children", [])
    if not isinstance(children, list):
        raise ValueError(f"{label}: children must be a list")
    out: list[dict[str, Any]] = []
    for i, child in enumerate(children):
        at = f"{where}.children[{i}]"
        if isinstance(child, dict) and "test" in child:
            out.append(_leaf(child, label, at, walk))
        else:
            out.append(_node(child, at, depth + 1, walk))
    return {
        "name": name,
        "aggregation": aggregation,
        "on_reject": on_reject,
        "verdict": verdict,
        "points": points,
        "requires": list(dict.fromkeys(requires)),  # a repeated name means nothing more
        "children": out,
    }


def _leaf(raw: dict[Any, Any], parent: str, where: str, walk: _Walk) -> dict[str, Any]:
    if set(raw) != {"test"}:
        extra = sorted(str(k) for k in raw if k != "test")[0]
        raise ValueError(f"{parent}: test leaf {where} has unknown field {extra!r}")
    index = raw["test"]
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"{parent}: test leaf {where}: test must be an integer")
    if not 1 <= index <= walk.n_tests:
        raise ValueError(f"{parent}: test {index} does not exist (tests are 1..{walk.n_tests})")
    if index in walk.tests:
        raise ValueError(f"{parent}: test {index} appears more than once in the tree")
    walk.tests.add(index)
    return {"test": index}


def _check_requires(root: dict[str, Any], walk: _Walk) -> None:
    """Every required name exists, is not the node or an ancestor, and requires form no cycle."""
    edges: dict[str, list[str]] = {}
    # (node, names of its ancestors including itself, position); explicit stack, no recursion
    stack: list[tuple[dict[str, Any], frozenset[str], str]] = [(root, frozenset(), "root")]
    while stack:
        node, above, where = stack.pop()
        name = node["name"]
        label = _label(name, where)
        line = above | {name} if name else above
        for r in node["requires"]:
            if r not in walk.names:
                raise ValueError(f"{label}: requires unknown node {r!r}")
            if r in line:
                raise ValueError(f"{label}: requires {r!r}, which is itself or contains it")
        if name:
            edges[name] = list(node["requires"])
        for i, child in enumerate(node["children"]):
            if "children" in child:
                stack.append((child, line, f"{where}.children[{i}]"))
    _no_cycle(edges)


def _no_cycle(edges: dict[str, list[str]]) -> None:
    """Depth-first search with colours, iterative: a grey node met again closes a cycle."""
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        iters = [iter(edges.get(start, []))]
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                iters.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
                continue
            if nxt in on_path:
                cycle = [*path[path.index(nxt) :], nxt]
                raise ValueError(f"node {nxt!r}: requires form a cycle: " + " -> ".join(cycle))
            if nxt in done:
                continue
            path.append(nxt)
            on_path.add(nxt)
            iters.append(iter(edges.get(nxt, [])))
