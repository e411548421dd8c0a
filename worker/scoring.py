"""From per-test outcomes to the submission's verdict, score, time and memory (DESIGN 3.3).

- verdict: the first failing test's verdict (by index), AC when none failed;
- time: the largest per-test CPU time; memory: the largest peak;
- score: tests without a group earn their own points (partial credit from a checker included);
  the tests of a named group earn the group's points (their sum) only if every one of them is AC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
