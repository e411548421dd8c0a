"""The sample problems `judge up` loads: a right answer scores full marks, a slow one does not."""

from __future__ import annotations

import sys
from typing import Any

import pytest

stack_module = sys.modules["web_test_stack"]

KADANE = """import sys
data = sys.stdin.buffer.read().split()
n = int(data[0])
best, cur = None, 0
for x in map(int, data[1:n + 1]):
    cur = max(x, cur + x)
    best = cur if best is None else max(best, cur)
print(best)
"""
QUADRATIC = """import sys
data = sys.stdin.buffer.read().split()
a = list(map(int, data[1:int(data[0]) + 1]))
best = a[0]
for i in range(len(a)):
    s = 0
    for j in range(i, len(a)):
        s += a[j]
        if s > best:
            best = s
print(best)
"""
SIEVE = """n = int(input())
s = bytearray([1]) * (n + 1)
s[0] = 0
if n >= 1:
    s[1] = 0
i = 2
while i * i <= n:
    if s[i]:
        s[i * i :: i] = bytes(len(range(i * i, n + 1, i)))
    i += 1
print(sum(s))
"""
TRIAL_DIVISION = """n = int(input())
c = 0
for k in range(2, n + 1):
    d = 2
    while d * d <= k:
        if k % d == 0:
            break
        d += 1
    else:
        c += 1
print(c)
"""
CASES = [
    ("aplusb", "a, b = map(int, input().split())\nprint(a + b)\n", "AC", 1.0),
    ("circle", "import math\nr = float(input())\nprint(math.pi * r * r)\n", "AC", 1.0),
    ("circle", "r = float(input())\nprint(3.14 * r * r)\n", "WA", 0.0),
    ("maxsub", KADANE, "AC", 1.0),
    ("maxsub", QUADRATIC, "TLE", 0.6),  # the statement's promise: O(n^2) scores 60
    ("primes", SIEVE, "AC", 1.0),
    ("primes", TRIAL_DIVISION, "TLE", 6 / 7),  # the small tests pass
]


@pytest.mark.parametrize(("slug", "source", "verdict", "fraction"), CASES)
def test_sample_problem(stack: Any, slug: str, source: str, verdict: str, fraction: float) -> None:
    with stack.client("alice") as c:
        r = c.post("/api/submissions?wait=true",
                   json={"problem": slug, "language": "python3", "source": source})  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and body["verdict"] == verdict, body
    assert body["score"] == pytest.approx(fraction * body["max_score"]), body


def test_the_statement_examples_are_samples(stack: Any) -> None:
    """A wrong answer shows its author the checker's words on the statement's example (a
    sample) and nothing of a hidden test (issue 14: details only for samples)."""
    # Right for n = 1 and 2 (tests 1 and 2), wrong for the example n = 10 (test 3).
    wrong = "n = int(input())\nprint(0 if n < 2 else 1)\n"
    hidden_wrong = "n = int(input())\nprint(-1 if n == 2 else 0)\n"
    with stack.client("alice") as c:
        graded = [
            c.post("/api/submissions?wait=true",
                   json={"problem": "primes", "language": "python3", "source": source}).json()
            for source in (wrong, hidden_wrong)
        ]  # fmt: skip
    on_sample, on_hidden = ({t["index"]: t for t in g["tests"]} for g in graded)
    assert on_sample[3]["verdict"] == "WA" and "'4'" in on_sample[3]["message"], on_sample
    assert on_hidden[2]["verdict"] == "WA" and on_hidden[2]["message"] == "", on_hidden
