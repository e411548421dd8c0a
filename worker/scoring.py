"""From per-test outcomes to the submission's verdict, score, time and memory (DESIGN 3.3).

- verdict: the first failing test's verdict (by index), AC when none failed;
- time: the largest per-test CPU time; memory: the largest peak;
- score: tests without a group earn their own points (partial credit from a checker included);
  the tests of a named group earn the group's points (their sum) only if every one of them is AC.

A problem with a scoring tree (store.scoring validates it) is scored by ``tree_score`` /
``summarize_tree`` instead, and ``tree_skips`` says which tests its ``on_reject: break`` nodes
and unmeetable ``requires`` leave unrun.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from store.vocab import Verdict


@dataclass(frozen=True)
class TestInfo:
    __test__ = False  # not a pytest test class, despite the name
    index: int
    group: str | None
    points: float


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False
    index: int
    verdict: Verdict
    points: float  # earned on this test alone
    cpu_time: float | None = None
    memory: int | None = None


@dataclass(frozen=True)
class Summary:
    verdict: Verdict
    score: float
    max_score: float
    time: float | None
    memory: int | None


def earned(test_points: float, verdict: Verdict, checker_points: float | None) -> float:
    """Points one test earns: all for AC, what the checker granted for partial credit, else 0."""
    if verdict is Verdict.AC:
        return test_points
    if checker_points is not None:
        return min(max(checker_points, 0.0), test_points)
    return 0.0


def score(tests: Sequence[TestInfo], outcomes: Iterable[TestOutcome]) -> float:
    by_index = {o.index: o for o in outcomes}
    total = 0.0
    groups: dict[str, list[TestInfo]] = {}
    for t in tests:
        if t.group is None:
            o = by_index.get(t.index)
            total += o.points if o else 0.0
        else:
            groups.setdefault(t.group, []).append(t)
    for members in groups.values():
        if all((o := by_index.get(t.index)) and o.verdict is Verdict.AC for t in members):
            total += sum(t.points for t in members)
    return total


def summarize(tests: Sequence[TestInfo], outcomes: Sequence[TestOutcome]) -> Summary:
    ordered = sorted(outcomes, key=lambda o: o.index)
    failing = next((o.verdict for o in ordered if o.verdict not in (Verdict.AC, Verdict.SK)), None)
    times = [o.cpu_time for o in ordered if o.cpu_time is not None]
    peaks = [o.memory for o in ordered if o.memory is not None]
    return Summary(
        verdict=failing or Verdict.AC,
        score=score(tests, ordered),
        max_score=sum(t.points for t in tests),
        time=max(times) if times else None,
        memory=max(peaks) if peaks else None,
    )


# --- scoring trees (docs/problem-format.md, "Scoring tree") ---------------------------------


@dataclass(frozen=True)
class _Group:
    name: str
    aggregation: str  # sum | min | max | avg | all
    brk: bool  # on_reject == "break"
    verdict: str  # first_error | any_accepted | always_accepted
    points: float | None
    requires: tuple[str, ...]
    children: tuple[_Group | int, ...]  # an int is a test leaf, by its 1-based index
    tests: tuple[int, ...]  # every test below, in tree order


def _parse(raw: Mapping[str, Any], names: dict[str, _Group]) -> _Group:
    """The tree as it came from store.scoring.validate_tree (defaults repeated for safety)."""
    children: list[_Group | int] = []
    tests: list[int] = []
    for c in raw.get("children", []):
        if "test" in c:
            children.append(int(c["test"]))
            tests.append(int(c["test"]))
        else:
            group = _parse(c, names)
            children.append(group)
            tests.extend(group.tests)
    points = raw.get("points")
    node = _Group(
        name=raw.get("name", ""),
        aggregation=raw.get("aggregation", "sum"),
        brk=raw.get("on_reject", "break") == "break",
        verdict=raw.get("verdict", "first_error"),
        points=None if points is None else float(points),
        requires=tuple(raw.get("requires", ())),
        children=tuple(children),
        tests=tuple(tests),
    )
    if node.name:
        names[node.name] = node
    return node


class _Requirements:
    """Whether a node's ``requires`` hold: every test of each required node passes ``ok``, and so,
    transitively, do the required node's own requirements (a required node that scores 0 because
    of its dependencies does not let its dependants score either)."""

    def __init__(self, names: Mapping[str, _Group], ok: set[int]) -> None:
        self._names = names
        self._ok = ok
        self._memo: dict[str, bool] = {}

    def met(self, required: Iterable[str]) -> bool:
        return all(self._one(r, frozenset()) for r in required)

    def _one(self, name: str, seen: frozenset[str]) -> bool:
        if name in self._memo:
            return self._memo[name]
        node = self._names.get(name)
        # An unknown name or a cycle (both refused by validate_tree) never holds.
        if node is None or name in seen:
            return False
        result = all(t in self._ok for t in node.tests) and all(
            self._one(r, seen | {name}) for r in node.requires
        )
        self._memo[name] = result
        return result


def _tree(tree: Mapping[str, Any]) -> tuple[_Group, dict[str, _Group]]:
    names: dict[str, _Group] = {}
    return _parse(tree, names), names


def tree_score(tree: Mapping[str, Any], outcomes: Iterable[TestOutcome]) -> float:
    """The submission's score under a scoring tree; tests without an outcome or SK score 0."""
    root, names = _tree(tree)
    by_index = {o.index: o for o in outcomes}
    accepted = {i for i, o in by_index.items() if o.verdict is Verdict.AC}
    return _score(root, by_index, accepted, _Requirements(names, accepted))


def _score(
    node: _Group, by_index: Mapping[int, TestOutcome], accepted: set[int], req: _Requirements
) -> float:
    if not req.met(node.requires):
        return 0.0
    scores: list[float] = []
    for c in node.children:
        if isinstance(c, int):
            o = by_index.get(c)
            scores.append(o.points if o is not None and o.verdict is not Verdict.SK else 0.0)
        else:
            scores.append(_score(c, by_index, accepted, req))
    if node.aggregation == "min":
        return min(scores, default=0.0)
    if node.aggregation == "max":
        return max(scores, default=0.0)
    if node.aggregation == "avg":
        return sum(scores) / len(scores) if scores else 0.0
    if node.aggregation == "all":
        if not all(t in accepted for t in node.tests):
            return 0.0
        return node.points if node.points is not None else sum(scores)
    return sum(scores)


def tree_max(tree: Mapping[str, Any], tests: Sequence[TestInfo]) -> float:
    """The score when every test is AC with its full points."""
    return tree_score(tree, (TestOutcome(t.index, Verdict.AC, t.points) for t in tests))


def tree_skips(tree: Mapping[str, Any], outcomes: Iterable[TestOutcome]) -> set[int]:
    """Tests without an outcome yet that are not to be run, given the outcomes so far.

    - A node with ``on_reject: break`` (any aggregation) whose child is rejected (a test leaf with
      a verdict other than AC and SK, or a group holding such a test) skips its later children.
      The rejected child group itself follows its own ``on_reject`` (ICPC: a ``continue`` group
      is judged to its end, then its ``break`` parent stops), and the parent's own parent sees the
      same rejected test, so a rejection stops every ``break`` node above it.
    - A node with ``on_reject: break`` whose ``requires`` can no longer hold (a required test has
      a verdict other than AC, SK included) is skipped entirely: it cannot score. A ``continue``
      node is still run, so its per-test verdicts are shown.
    - Children before the rejected one are not skipped: the verdict is the first failing test by
      index, and a test still running before the rejected one may fail first.
    Skipped tests count as SK for ``requires``; this is applied until nothing more changes.
    """
    root, names = _tree(tree)
    verdicts = {o.index: o.verdict for o in outcomes}
    skipped: set[int] = set()
    while True:
        # A test is known-good for requires while it has no outcome or is AC; skipped = SK.
        bad = {i for i, v in verdicts.items() if v is not Verdict.AC} | skipped
        ok = {t for t in root.tests if t not in bad}
        found: set[int] = set()
        _skips(root, verdicts, _Requirements(names, ok), found)
        found -= skipped
        found.difference_update(verdicts)
        if not found:
            return skipped
        skipped |= found


def _skips(
    node: _Group, verdicts: Mapping[int, Verdict], req: _Requirements, out: set[int]
) -> None:
    if node.brk and not req.met(node.requires):
        out.update(node.tests)
        return
    rejected = False
    for c in node.children:
        if rejected:
            out.update((c,) if isinstance(c, int) else c.tests)
            continue
        if isinstance(c, int):
            rejected = node.brk and _rejected(verdicts.get(c))
        else:
            _skips(c, verdicts, req, out)
            rejected = node.brk and _group_rejected(c, verdicts)


def _rejected(verdict: Verdict | None) -> bool:
    return verdict is not None and verdict not in (Verdict.AC, Verdict.SK)


def _group_rejected(node: _Group, verdicts: Mapping[int, Verdict]) -> bool:
    """Whether the group's verdict is already certain to be a rejection, by its rule: any
    rejection below for first_error; for any_accepted, no child left that is or may become
    accepted; never for always_accepted (its parent's break must not fire on it)."""
    if node.verdict == "always_accepted":
        return False
    states = [
        _rejected(verdicts.get(c)) if isinstance(c, int) else _group_rejected(c, verdicts)
        for c in node.children
    ]
    if node.verdict == "first_error":
        return any(states)
    # any_accepted: every child has ended without acceptance (a rejection, or all skipped).
    open_or_accepted = [
        not s and not (isinstance(c, int) and verdicts.get(c) is Verdict.SK)
        for c, s in zip(node.children, states, strict=True)
    ]
    return any(states) and not any(open_or_accepted)


def summarize_tree(
    tree: Mapping[str, Any], tests: Sequence[TestInfo], outcomes: Sequence[TestOutcome]
) -> Summary:
    """As ``summarize`` (time, memory), with score and max_score from the tree, and the verdict
    from the tree's verdict rules: without any, the first failing test's, as ``summarize``."""
    flat = summarize(tests, outcomes)
    root, _ = _tree(tree)
    verdict = flat.verdict
    if _has_rules(root):
        verdict = _verdict(root, {o.index: o.verdict for o in outcomes}) or Verdict.AC
    return replace(
        flat, verdict=verdict, score=tree_score(tree, outcomes), max_score=tree_max(tree, tests)
    )


def _has_rules(node: _Group) -> bool:
    return node.verdict != "first_error" or any(
        isinstance(c, _Group) and _has_rules(c) for c in node.children
    )


def _verdict(node: _Group, verdicts: Mapping[int, Verdict]) -> Verdict | None:
    """A group's verdict from its children's, in tree order; None when nothing below it ran
    (skipped or not yet judged), so it does not count for its parent either."""
    got: list[Verdict] = []
    for c in node.children:
        v = verdicts.get(c) if isinstance(c, int) else _verdict(c, verdicts)
        if v is not None and v is not Verdict.SK:
            got.append(v)
    if not got:
        return None
    if node.verdict == "always_accepted":
        return Verdict.AC
    if node.verdict == "any_accepted" and Verdict.AC in got:
        return Verdict.AC
    return next((v for v in got if v is not Verdict.AC), Verdict.AC)
