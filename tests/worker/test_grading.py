"""End to end through a real redis-server and a real Celery worker: every verdict for real."""

from __future__ import annotations

import pytest
from worker_test_kit import Judge
from worker_test_programs import (
    APLUSB,
    APLUSB_SOURCES,
    C_MLE,
    C_SUM32,
    C_SV,
    CUSTOM,
    FLOAT,
    GROUPS,
    PAIRS,
    SQUARES_HALF,
    TIGHT,
)

from store import Status, Verdict
from worker import languages


@pytest.fixture(scope="module", autouse=True)
def problems(judge: Judge) -> None:
    for spec in (APLUSB, PAIRS, TIGHT, GROUPS, FLOAT, CUSTOM):
        judge.add_problem(spec)


@pytest.mark.parametrize("language", sorted(APLUSB_SOURCES))
def test_aplusb_accepted_in_every_language(judge: Judge, language: str) -> None:
    assert language in {lang.id for lang in languages.available()}, "toolchain missing on host"
    sub = judge.run("aplusb", language, APLUSB_SOURCES[language])
    assert (sub.status, sub.verdict, sub.score, sub.max_score) == (Status.DONE, Verdict.AC, 10, 10)
    assert [r.test_index for r in sub.results] == list(range(1, 11))
    assert all(r.verdict is Verdict.AC for r in sub.results)
    assert sub.time is not None and sub.time == max(r.cpu_time or 0 for r in sub.results)
    assert sub.memory is not None and sub.memory > 0
    assert sub.attempts == 1 and sub.lease_until is None


def test_wrong_answer_stops_and_skips_the_rest(judge: Judge) -> None:
    sub = judge.run("aplusb", "python3", "a, b = map(int, input().split())\nprint(a + b + 1)\n")
    assert (sub.verdict, sub.score) == (Verdict.WA, 0)
    assert [r.verdict for r in sub.results] == [Verdict.WA] + [Verdict.SK] * 9
    assert "expected '1', found '2'" in sub.results[0].message


def test_presentation_error_with_lines_checker(judge: Judge) -> None:
    src = "import sys\nnums = [sum(map(int, l.split())) for l in sys.stdin]\nprint(*nums)\n"
    sub = judge.run("pairs", "python3", src)
    assert sub.verdict is Verdict.PE and sub.results[0].verdict is Verdict.PE


def test_time_limit(judge: Judge) -> None:
    sub = judge.run("tight", "python3", "while True:\n    pass\n")
    first = sub.results[0]
    assert sub.verdict is Verdict.TLE and first.verdict is Verdict.TLE
    assert first.cpu_time is not None and first.cpu_time >= 0.5
    assert sub.results[1].verdict is Verdict.SK


def test_memory_limit_is_an_oom_kill(judge: Judge) -> None:
    sub = judge.run("tight", "c", C_MLE)
    first = sub.results[0]
    assert sub.verdict is Verdict.MLE and first.verdict is Verdict.MLE
    assert first.oom_killed is True
    assert first.memory is not None and first.memory >= 60 << 20


FLOOD = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"


def test_output_limit(judge: Judge) -> None:
    sub = judge.run("tight", "python3", FLOOD)
    assert sub.verdict is Verdict.OLE and sub.results[0].verdict is Verdict.OLE


def test_output_past_the_limit_dropped_by_domjudges_rule(judge: Judge) -> None:
    """limits.output_overflow "truncate" (what a DOMjudge package gets): an endless flood runs
    into its time limit, and a flood that ends is OLE."""
    judge.add_problem({**TIGHT, "slug": "tight-truncate",
                       "limits": {"output_overflow": "truncate"}})  # fmt: skip
    forever = judge.run("tight-truncate", "python3", FLOOD)
    assert forever.verdict is Verdict.TLE, forever.results[0].message
    ends = judge.run("tight-truncate", "python3", "print('x' * (2 << 20))")
    assert ends.verdict is Verdict.OLE and "dropped" in (ends.results[0].message or "")


# A statically initialised array is stored in the binary (DOMjudge's test-memstatic.cc).
BIG_BINARY = """#include <stdio.h>
char blob[{mib} << 20] = {{ 1 }};
int main(void) {{ long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b + blob[1]); }}
"""


def test_a_large_binary_is_judged_with_the_packages_compile_limits(judge: Judge) -> None:
    """A 300 MiB binary: CE under the default limit on compile output (256 MiB); with the
    package's compile_file_size (DOMjudge's, set for its packages) it compiles, and its run box
    has room for it beside the default 64 MiB (it was an internal error: the binary did not
    fit the box it had compiled for)."""
    source = BIG_BINARY.format(mib=300)
    small = judge.run("aplusb", "c", source)
    assert small.verdict is Verdict.CE, small.compile_output
    judge.add_problem({**APLUSB, "slug": "aplusb-big-binary",
                       "limits": {"compile_file_size": "320M", "compile_memory": "1536M"}})  # fmt: skip
    big = judge.run("aplusb-big-binary", "c", source)
    assert (big.verdict, big.score) == (Verdict.AC, 10), big.compile_output
    assert all(r.memory is not None and r.memory < 64 << 20 for r in big.results)


def test_runtime_error_keeps_exit_code(judge: Judge) -> None:
    sub = judge.run("aplusb", "python3", "import sys\nsys.exit(3)\n")
    assert sub.verdict is Verdict.RE
    assert (sub.results[0].verdict, sub.results[0].exit_code) == (Verdict.RE, 3)


def test_compile_error_shows_the_compiler_message(judge: Judge) -> None:
    sub = judge.run("aplusb", "c", "int main( { return 0; }\n")
    assert (sub.status, sub.verdict, sub.score) == (Status.DONE, Verdict.CE, 0)
    assert sub.compile_output and "error" in sub.compile_output
    assert sub.results == []


def test_python_syntax_error_is_a_compile_error(judge: Judge) -> None:
    sub = judge.run("aplusb", "python3", "print(1\n")
    assert sub.verdict is Verdict.CE and "SyntaxError" in (sub.compile_output or "")


def test_forbidden_syscall_is_a_security_violation(judge: Judge) -> None:
    sub = judge.run("aplusb", "c", C_SV)
    assert sub.verdict is Verdict.SV and sub.results[0].verdict is Verdict.SV
    assert "ptrace" in sub.results[0].message


def test_groups_earn_points_only_together(judge: Judge) -> None:
    sub = judge.run("groups", "c", C_SUM32)
    verdicts = [r.verdict for r in sub.results]
    assert verdicts == [Verdict.AC, Verdict.AC, Verdict.WA, Verdict.AC, Verdict.AC]
    # small (5+5) and the lone test (3) count; big loses both its tests' 20 points.
    assert (sub.verdict, sub.score, sub.max_score) == (Verdict.WA, 13, 33)


def test_float_checker_tolerance_and_partial_score(judge: Judge) -> None:
    exact = judge.run("divide", "python3", "a, b = map(int, input().split())\nprint(a / b)\n")
    assert (exact.verdict, exact.score) == (Verdict.AC, 10)
    rounded = judge.run(
        "divide", "python3", "a, b = map(int, input().split())\nprint(f'{a / b:.2f}')\n"
    )
    assert [r.verdict for r in rounded.results] == [Verdict.AC, Verdict.WA, Verdict.WA]
    assert (rounded.verdict, rounded.score) == (Verdict.WA, 4)
    assert "number 1" in rounded.results[1].message


def test_custom_checker_partial_points(judge: Judge) -> None:
    sub = judge.run("first-squares", "python3", SQUARES_HALF)
    assert [(r.verdict, r.points) for r in sub.results] == [(Verdict.WA, 20), (Verdict.AC, 20)]
    assert (sub.verdict, sub.score, sub.max_score) == (Verdict.WA, 40, 50)
    assert "points 20" in sub.results[0].message


def test_custom_checker_accepts_and_rejects(judge: Judge) -> None:
    good = judge.run(
        "first-squares", "python3", "print(*[i * i for i in range(1, int(input()) + 1)])"
    )
    assert (good.verdict, good.score) == (Verdict.AC, 50)
    bad = judge.run("first-squares", "python3", "print(0)")
    assert bad.verdict is Verdict.WA and bad.results[0].message == "nothing right"
    extra = judge.run("first-squares", "python3", "print('1 4 9 16 25')")
    assert extra.verdict is Verdict.PE


def test_checker_failure_is_internal_not_the_submitters(judge: Judge) -> None:
    judge.add_problem(
        {**CUSTOM, "slug": "broken-checker", "tests": [{"input": "fail 3\n", "output": "1 4 9"}]}
    )
    sub = judge.run("broken-checker", "python3", "print('1 4 0')")
    assert sub.verdict is Verdict.IE and sub.results[0].verdict is Verdict.IE
    assert "checker failed (exit 3)" in sub.results[0].message


def test_checker_that_does_not_compile_ends_as_ie(judge: Judge) -> None:
    judge.add_problem(
        {
            **APLUSB,
            "slug": "bad-checker",
            "checker": {"type": "custom", "language": "c", "source": "not C at all"},
        }
    )
    sub = judge.run("bad-checker", "python3", APLUSB_SOURCES["python3"])
    assert (sub.status, sub.verdict) == (Status.ERROR, Verdict.IE)
    assert sub.message and "checker does not compile" in sub.message
    assert sub.attempts == 1  # a broken problem is not retried


def test_submit_api_commits_then_enqueues(judge: Judge) -> None:
    import worker

    with judge.sessions() as s:
        sid = worker.submit(s, "aplusb", "python3", APLUSB_SOURCES["python3"])
    sub = judge.wait([sid])[sid]
    assert sub.verdict is Verdict.AC
    with judge.sessions() as s, pytest.raises(worker.UnknownProblem):
        worker.submit(s, "nope", "python3", "print(1)")
    with judge.sessions() as s, pytest.raises(worker.SubmitError, match="language"):
        worker.submit(s, "aplusb", "cobol", "DISPLAY 1")


def test_rejudge_replaces_results(judge: Judge) -> None:
    import worker

    sub = judge.run("aplusb", "python3", APLUSB_SOURCES["python3"])
    with judge.sessions() as s:
        assert worker.rejudge(s, [sub.id]) == [sub.id]
    again = judge.wait([sub.id])[sub.id]
    assert again.verdict is Verdict.AC and again.queue == "batch"
    assert [r.test_index for r in again.results] == list(range(1, 11))
