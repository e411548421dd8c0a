"""Checker and interactor protocols for real (DESIGN 3.4): ICPC output validators with a
feedback directory, testlib checkers compiled with a header supplied as a problem file,
testlib interactors run as ``interactor input output answer`` with the problem's checker on
their output, ICPC interactive validators, and a checker that fails being IE, never WA.

The header below is our own minimal stand-in for testlib.h, written for these tests: it keeps
testlib's protocol (argument order, exit codes, ``points`` on stderr), nothing of its code.
"""

from __future__ import annotations

import itertools

import pytest
from worker_test_kit import Judge

from store import Status, Verdict

_slugs = itertools.count()

MINI_TESTLIB = r"""
#pragma once
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
enum TResult { _ok = 0, _wa = 1, _pe = 2, _fail = 3, _points = 7 };
static std::ifstream inf, ouf, ans;
static FILE *tout;
inline void registerTestlibCmd(int argc, char **argv) {
    if (argc < 4) { std::fprintf(stderr, "usage: checker input output answer\n"); std::exit(3); }
    inf.open(argv[1]); ouf.open(argv[2]); ans.open(argv[3]);
}
inline void registerInteraction(int argc, char **argv) {
    if (argc < 4) { std::fprintf(stderr, "usage: interactor input output answer\n"); std::exit(3); }
    inf.open(argv[1]); ans.open(argv[3]); tout = std::fopen(argv[2], "w");
}
inline void quitf(TResult r, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt); std::vfprintf(stderr, fmt, ap); va_end(ap);
    std::fputc('\n', stderr);
    std::exit(r);
}
inline void quitp(double points, const char *msg) {
    std::fprintf(stderr, "points %g %s\n", points, msg); std::exit(_points);
}
inline void quitpi(const char *info, const char *msg) {
    std::fprintf(stderr, "points points_info=%s %s\n", info, msg); std::exit(_points);
}
"""

TESTLIB_CHECKER = r"""
#include "testlib.h"
int main(int argc, char **argv) {
    registerTestlibCmd(argc, argv);
    long long want, got;
    ans >> want;
    if (!(ouf >> got)) quitf(_pe, "no number");
    if (got == want) quitf(_ok, "right: %lld", got);
    if (got == want + 1) quitp(0.5, "off by one");
    if (got == want + 2) quitpi("0.25", "off by two");
    quitf(_wa, "expected %lld, found %lld", want, got);
}
"""

# A+B as an interactive problem, written as a stock testlib interactor would be: it gives the
# numbers, reads the sum, and writes it to its OUTPUT for the checker (which knows the answer).
TESTLIB_AB_INTERACTOR = r"""
#include "testlib.h"
#include <iostream>
int main(int argc, char **argv) {
    registerInteraction(argc, argv);
    long long a, b, got;
    inf >> a >> b;
    std::cout << a << " " << b << std::endl;
    if (!(std::cin >> got)) quitf(_pe, "no answer");
    std::fprintf(tout, "%lld\n", got);
    quitf(_ok, "read %lld", got);
}
"""

ICPC_VALIDATOR = r"""
import sys
with open(sys.argv[2]) as f:
    want = f.read().split()
got = sys.stdin.read().split()
flags = sys.argv[4:]
with open(sys.argv[3] + "judgemessage.txt", "w") as msg:
    if "crash" in flags:
        raise RuntimeError("the validator has a bug")
    if got == want:
        msg.write("same tokens")
        if "score" in flags:
            with open(sys.argv[3] + "score.txt", "w") as s:
                s.write("2.5\n")
        sys.exit(42)
    msg.write(f"expected {len(want)} tokens")
    sys.exit(43)
"""

# ICPC interactive: the validator is wired to the solution; it checks a guessing game.
ICPC_INTERACTIVE = r"""
import sys
secret = int(open(sys.argv[1]).read())
for asked in range(1, 12):
    line = sys.stdin.readline()
    if not line:
        open(sys.argv[3] + "judgemessage.txt", "w").write("no guess")
        sys.exit(43)
    x = int(line.split()[1])
    print("<" if secret < x else ">" if secret > x else "=", flush=True)
    if x == secret:
        sys.exit(42)
open(sys.argv[3] + "judgemessage.txt", "w").write("too many guesses")
sys.exit(43)
"""

GUESSER = r"""
lo, hi = 1, 1000
while True:
    mid = (lo + hi) // 2
    print("?", mid, flush=True)
    a = input()
    if a == "=":
        break
    if a == "<":
        hi = mid - 1
    else:
        lo = mid + 1
"""

AB_PY = "print(sum(map(int, input().split())))"


def _slug(name: str) -> str:
    return f"{name}-{next(_slugs)}"


def _problem(slug: str, **extra: object) -> dict[str, object]:
    return {
        "slug": slug,
        "time_limit": 2.0,
        "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "20 22\n", "output": "42\n"}],
        **extra,
    }


def test_icpc_validator_feedback_dir_and_exit_codes(judge: Judge) -> None:
    slug = _slug("icpc-val")
    checker = {"type": "custom", "language": "python3", "source": ICPC_VALIDATOR,
               "protocol": "icpc"}  # fmt: skip
    judge.add_problem(_problem(slug, checker=checker))
    ok = judge.run(slug, "python3", AB_PY)
    assert ok.verdict is Verdict.AC and ok.results[0].message == "same tokens"
    wrong = judge.run(slug, "python3", "print(3)")
    assert [r.verdict for r in wrong.results] == [Verdict.AC, Verdict.WA]
    assert wrong.results[1].message == "expected 1 tokens"


def test_icpc_validator_flags_and_score(judge: Judge) -> None:
    slug = _slug("icpc-score")
    checker = {"type": "custom", "language": "python3", "source": ICPC_VALIDATOR,
               "protocol": "icpc", "flags": ["score"]}  # fmt: skip
    judge.add_problem(_problem(slug, checker=checker, stop_on_failure=False))
    sub = judge.run(slug, "python3", AB_PY)
    assert sub.verdict is Verdict.AC and sub.score == 5.0  # 2.5 per test from score.txt


def test_a_crashing_validator_is_ie_not_wrong_answer(judge: Judge) -> None:
    slug = _slug("icpc-crash")
    checker = {"type": "custom", "language": "python3", "source": ICPC_VALIDATOR,
               "protocol": "icpc", "flags": ["crash"]}  # fmt: skip
    judge.add_problem(_problem(slug, checker=checker))
    sub = judge.run(slug, "python3", AB_PY)
    first = sub.results[0]
    assert (sub.verdict, first.verdict) == (Verdict.IE, Verdict.IE)
    assert "exit code 1" in first.message and "the validator has a bug" in first.message


def test_testlib_checker_with_its_header_as_a_problem_file(judge: Judge) -> None:
    slug = _slug("testlib")
    checker = {"type": "custom", "language": "cpp", "source": TESTLIB_CHECKER,
               "protocol": "testlib", "files": {"testlib.h": MINI_TESTLIB}}  # fmt: skip
    judge.add_problem(_problem(slug, checker=checker, stop_on_failure=False,
                               tests=[{"input": "1 2\n", "output": "3\n", "points": 4}]))  # fmt: skip
    assert judge.run(slug, "python3", AB_PY).verdict is Verdict.AC
    quitp = judge.run(slug, "python3", "print(4)")
    assert (quitp.verdict, quitp.score) == (Verdict.WA, 0.5)
    quitpi = judge.run(slug, "python3", "print(5)")
    assert (quitpi.verdict, quitpi.score) == (Verdict.WA, 0.25)
    pe = judge.run(slug, "python3", "print('x')")
    assert pe.verdict is Verdict.PE and pe.results[0].message == "no number"


@pytest.mark.parametrize(
    ("source", "verdict"),
    [("a, b = map(int, input().split())\nprint(a + b)", Verdict.AC),
     ("a, b = map(int, input().split())\nprint(a - b)", Verdict.WA)],
    ids=["right", "wrong"],
)  # fmt: skip
def test_testlib_interactor_then_checker(judge: Judge, source: str, verdict: Verdict) -> None:
    slug = _slug("ab-interactive")
    files = {"testlib.h": MINI_TESTLIB}
    judge.add_problem(_problem(
        slug,
        interactor={"language": "cpp", "source": TESTLIB_AB_INTERACTOR, "files": files},
        checker={"type": "custom", "language": "cpp", "source": TESTLIB_CHECKER, "files": files},
    ))  # fmt: skip
    sub = judge.run(slug, "python3", source)
    assert sub.status is Status.DONE and sub.verdict is verdict, [r.message for r in sub.results]
    if verdict is Verdict.WA:
        # The checker read the interactor's OUTPUT file, and the answer file was left alone.
        assert sub.results[0].message == "expected 3, found -1"


def test_icpc_interactive_validator(judge: Judge) -> None:
    slug = _slug("icpc-guess")
    judge.add_problem({
        "slug": slug, "time_limit": 2.0,
        "interactor": {"language": "python3", "source": ICPC_INTERACTIVE, "protocol": "icpc"},
        "tests": [{"input": "1\n"}, {"input": "777\n"}, {"input": "1000\n"}],
    })  # fmt: skip
    assert judge.run(slug, "python3", GUESSER).verdict is Verdict.AC
    linear = "i = 1\nwhile True:\n    print('?', i, flush=True)\n    if input() == '=': break\n    i += 1"
    sub = judge.run(slug, "python3", linear)
    assert [r.verdict for r in sub.results][:2] == [Verdict.AC, Verdict.WA]
    assert sub.results[1].message == "too many guesses"


def test_icpc_default_comparison_flags(judge: Judge) -> None:
    slug = _slug("icpc-default")
    checker = {"type": "tokens", "case_sensitive": False, "float_tolerance": 1e-6}
    judge.add_problem({"slug": slug, "checker": checker,
                       "tests": [{"input": "", "output": "YES 0.5 nan\n"}]})  # fmt: skip
    assert judge.run(slug, "python3", "print('yes 0.5000001 NaN')").verdict is Verdict.AC
    assert judge.run(slug, "python3", "print('yes 0.51 NaN')").verdict is Verdict.WA


def test_a_sleeper_does_not_pass_by_waiting(judge: Judge) -> None:
    # Wall limit 1.5 x 1 s + 1 s: a program that sleeps 3 s uses no CPU and still fails.
    slug = _slug("sleeper")
    judge.add_problem({"slug": slug, "time_limit": 1.0,
                       "tests": [{"input": "", "output": "1\n"}]})  # fmt: skip
    sub = judge.run(slug, "python3", "import time\ntime.sleep(3)\nprint(1)")
    assert sub.verdict is Verdict.TLE and "wall time" in sub.results[0].message


def test_package_wall_limit_wins(judge: Judge) -> None:
    slug = _slug("wall")
    judge.add_problem({"slug": slug, "time_limit": 1.0, "limits": {"wall_time": 4.0},
                       "tests": [{"input": "", "output": "1\n"}]})  # fmt: skip
    assert judge.run(slug, "python3", "import time\ntime.sleep(3)\nprint(1)").verdict is Verdict.AC
