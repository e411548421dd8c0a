"""Interactive problems for real: a solution and an interactor in two sandboxes, graded by a real
Celery worker through a real redis-server. Each bad solution earns its verdict by misbehaving."""

from __future__ import annotations

import time

import pytest
from worker_test_kit import Judge
from worker_test_programs import (
    GUESS,
    GUESS_C,
    GUESS_FLOOD_LINE,
    GUESS_FLOOD_QUESTIONS,
    GUESS_HOSTILE,
    GUESS_LINEAR,
    GUESS_OOM,
    GUESS_PY,
    GUESS_SILENT,
)

from store import Status, Verdict
from worker.execution import RunLimits

SOLUTION_WALL = RunLimits(GUESS["time_limit"], 0, 0).wall_time()


@pytest.fixture(scope="module", autouse=True)
def problems(judge: Judge) -> None:
    judge.add_problem(GUESS)


@pytest.mark.parametrize(
    ("language", "source"), [("python3", GUESS_PY), ("c", GUESS_C)], ids=["python3", "c"]
)
def test_binary_search_is_accepted(judge: Judge, language: str, source: str) -> None:
    sub = judge.run("guess-1000", language, source)
    assert (sub.status, sub.verdict, sub.score, sub.max_score) == (Status.DONE, Verdict.AC, 5, 5)
    assert [r.verdict for r in sub.results] == [Verdict.AC] * 5
    for r in sub.results:
        # The solution's side, measured like any other run; the interactor's words as message.
        assert r.cpu_time is not None and 0 < r.cpu_time < GUESS["time_limit"]
        assert r.wall_time is not None and 0 < r.wall_time < SOLUTION_WALL
        assert r.memory is not None and r.memory > 0 and r.oom_killed is False
        assert r.exit_code == 0 and r.message.startswith("guessed in ")
    assert "guessed in 1" in sub.results[2].message  # 500 is the first question


def test_too_many_questions_is_wrong_answer(judge: Judge) -> None:
    sub = judge.run("guess-1000", "python3", GUESS_LINEAR)
    # The secret 1 is found at once; 1000 needs a thousand questions.
    assert [r.verdict for r in sub.results][:2] == [Verdict.AC, Verdict.WA]
    assert sub.verdict is Verdict.WA and sub.score == 1
    # The solution died of EOF once the interactor hung up: that is not its own runtime error.
    assert sub.results[1].message == "more than 10 questions"


def test_silent_solution_is_a_time_limit_not_a_hang(judge: Judge) -> None:
    t0 = time.monotonic()
    sub = judge.run("guess-1000", "python3", GUESS_SILENT, timeout=30)
    first = sub.results[0]
    assert sub.verdict is Verdict.TLE and first.verdict is Verdict.TLE
    assert "wall time limit" in first.message
    assert first.wall_time is not None and SOLUTION_WALL <= first.wall_time < SOLUTION_WALL + 0.5
    assert time.monotonic() - t0 < SOLUTION_WALL + 10


@pytest.mark.parametrize(
    ("source", "verdict"),
    [(GUESS_FLOOD_LINE, Verdict.PE), (GUESS_FLOOD_QUESTIONS, Verdict.WA)],
    ids=["endless-line", "endless-questions"],
)
def test_flooding_the_pipe_ends_with_a_verdict(judge: Judge, source: str, verdict: Verdict) -> None:
    sub = judge.run("guess-1000", "python3", source, timeout=30)
    first = sub.results[0]
    assert (sub.verdict, first.verdict) == (verdict, verdict), first.message
    assert first.wall_time is not None and first.wall_time < SOLUTION_WALL


def test_oom_killed_solution_is_mle(judge: Judge) -> None:
    sub = judge.run("guess-1000", "c", GUESS_OOM)
    first = sub.results[0]
    assert sub.verdict is Verdict.MLE and first.verdict is Verdict.MLE, first.message
    assert first.oom_killed is True and first.memory is not None and first.memory >= 60 << 20
    assert sub.status is Status.DONE and sub.attempts == 1  # the interactor did not fail


def test_hostile_solution_cannot_reach_the_interactor(judge: Judge) -> None:
    sub = judge.run("guess-1000", "python3", GUESS_HOSTILE)
    # Had it read the secret or killed the interactor, this would not be a clean AC.
    assert (sub.status, sub.verdict, sub.score, sub.attempts) == (Status.DONE, Verdict.AC, 5, 1)
    assert all(r.message.startswith("guessed in ") for r in sub.results)


def test_crashing_interactor_is_an_internal_error(judge: Judge) -> None:
    crash = "import os, sys\nsys.stdin.readline()\nos.abort()\n"
    judge.add_problem(
        {**GUESS, "slug": "guess-crash", "interactor": {"language": "python3", "source": crash}}
    )
    sub = judge.run("guess-crash", "python3", GUESS_PY, timeout=60)
    # Never the submitter's verdict: retried up to the cap, then IE with the reason.
    assert (sub.status, sub.verdict, sub.attempts) == (Status.ERROR, Verdict.IE, 3)
    assert sub.message and "interactor crashed: killed by SIGABRT" in sub.message


def test_interactor_judge_failure_is_ie_on_the_test(judge: Judge) -> None:
    judge.add_problem(
        {**GUESS, "slug": "guess-broken", "tests": [{"input": "5\n", "output": "broken\n"}]}
    )
    sub = judge.run("guess-broken", "python3", GUESS_PY)
    assert sub.verdict is Verdict.IE and sub.results[0].verdict is Verdict.IE
    assert sub.results[0].message == "interactor failed (exit 3): the test says it is broken"


def test_interactor_that_does_not_compile_fails_the_problem(judge: Judge) -> None:
    judge.add_problem(
        {**GUESS, "slug": "guess-cc", "interactor": {"language": "c", "source": "not C"}}
    )
    sub = judge.run("guess-cc", "python3", GUESS_PY)
    assert (sub.status, sub.verdict, sub.attempts) == (Status.ERROR, Verdict.IE, 1)
    assert sub.message and "interactor does not compile" in sub.message
