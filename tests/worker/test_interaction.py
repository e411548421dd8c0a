"""worker.interaction without the queue: both sides' Results from the real sandbox, and the
verdict rules on hand-made Results (who is to blame when both sides have something to say)."""

from __future__ import annotations

import re
import signal

import pytest
from worker_test_programs import (
    GUESS,
    GUESS_C,
    GUESS_HOSTILE,
    GUESS_INTERACTOR,
    GUESS_OOM,
)

import sandbox
from store import Verdict
from worker import interaction, languages
from worker.errors import InternalError
from worker.execution import CompileFailure, Program, RunLimits, compile_source, sandbox_runner

LIMITS = RunLimits(GUESS["time_limit"], 64 << 20, 1 << 20)


def _program(language: str, source: str) -> Program:
    built, output = compile_source(sandbox_runner, languages.get(language), source)
    assert not isinstance(built, CompileFailure), output
    return built


@pytest.fixture(scope="module")
def interactor() -> Program:
    return _program("python3", GUESS_INTERACTOR)


def _play(solution: Program, interactor: Program, secret: int) -> tuple[sandbox.Result, ...]:
    return interaction.run(
        interaction.sandbox_interact, solution, LIMITS, interactor, f"{secret}\n".encode(), b"",
        GUESS["time_limit"],
    )  # fmt: skip


def test_both_sides_are_measured_separately(interactor: Program) -> None:
    solution = _program("c", GUESS_C)
    sol, inter = _play(solution, interactor, 377)
    assert (sol.verdict, sol.exit_code, inter.verdict, inter.exit_code) == (
        sandbox.Verdict.OK, 0, sandbox.Verdict.OK, 0,
    )  # fmt: skip
    assert inter.stderr.startswith(b"guessed in ")
    # A C solution is far smaller than the Python interpreter that runs the interactor.
    assert 0 < sol.memory_peak < inter.memory_peak
    assert interaction.judge(solution, sol, inter).verdict is Verdict.AC


def test_oom_kill_of_the_solution_leaves_the_interactor_unharmed(interactor: Program) -> None:
    solution = _program("c", GUESS_OOM)
    sol, inter = _play(solution, interactor, 700)
    assert sol.verdict is sandbox.Verdict.MEMORY_LIMIT and sol.oom_killed
    # The interactor saw the conversation end and said so itself, in its own memory.
    assert (inter.verdict, inter.exit_code, inter.oom_killed) == (
        sandbox.Verdict.RUNTIME_ERROR, 1, False,
    )  # fmt: skip
    assert inter.stderr.strip() == b"no guess after 1 questions"
    assert inter.memory_peak < 64 << 20
    assert interaction.judge(solution, sol, inter).verdict is Verdict.MLE


def test_solution_cannot_read_or_signal_the_interactor(interactor: Program) -> None:
    solution = _program("python3", GUESS_HOSTILE)
    sol, inter = _play(solution, interactor, 613)
    report = sol.stderr.decode()
    assert "READ" not in report and "KILLED" not in report, report
    assert "no /box/input.txt: No such file or directory" in report
    assert "box holds main.py" in report  # only its own source; the test input is elsewhere
    assert (inter.verdict, inter.exit_code) == (sandbox.Verdict.OK, 0), inter
    assert interaction.judge(solution, sol, inter).verdict is Verdict.AC


# Closes its end of the interactor's replies, then asks: the interactor's answer can only meet
# a pipe without a reader (EPIPE), whatever the scheduling.
HANG_UP_FIRST = "import os\nos.close(0)\nos.write(1, b'? 1\\n')\n"


def test_an_interactor_that_cannot_answer_a_hung_up_solution_is_not_an_internal_error(
    interactor: Program,
) -> None:
    # Python ignores SIGPIPE: the interactor's reply raises BrokenPipeError, and flushing stdout
    # at exit fails again, which makes its exit code 120, one testlib does not define. That is
    # the solution ending the conversation (a contestant can do it at will), not the judge
    # failing: as an internal error it was retried, and its text shown during the retry.
    solution = _program("python3", HANG_UP_FIRST)
    sol, inter = _play(solution, interactor, 1000)
    assert (inter.verdict, inter.exit_code) == (sandbox.Verdict.RUNTIME_ERROR, 120), inter
    assert b"Broken pipe" in inter.stderr
    outcome = interaction.judge(solution, sol, inter)
    assert (outcome.verdict, outcome.message) == (
        Verdict.WA, "the solution ended the interaction early",
    )  # fmt: skip


# ---- the verdict rules, on hand-made Results ------------------------------------------------

PY = Program(languages.get("python3"), {"main.py": b""})
C = Program(languages.get("c"), {"main": b""})


def _r(verdict: str = "OK", exit_code: int | None = 0, **kw: object) -> sandbox.Result:
    return sandbox.Result(verdict=sandbox.Verdict(verdict), exit_code=exit_code, **kw)  # type: ignore[arg-type]


def _said(code: int, message: str = "") -> sandbox.Result:
    return _r("OK" if code == 0 else "RE", code, stderr=message.encode())


IDLE = "idleness: still running 1.000 s after the other side ended"
EPIPE = b"BrokenPipeError: [Errno 32] Broken pipe\nException ignored in: <_io.TextIOWrapper"


@pytest.mark.parametrize(
    ("solution", "sol", "inter", "verdict"),
    [
        # The interactor's word when the solution did nothing wrong.
        (PY, _r(), _said(0), Verdict.AC),
        (PY, _r(), _said(1, "wrong guess"), Verdict.WA),
        (PY, _r(), _said(2), Verdict.PE),
        (PY, _r(), _said(3, "bad test"), Verdict.IE),
        # The solution's own limits win, whatever the interactor says after.
        (PY, _r("TLE", None, message="cpu time limit 1.000 s exceeded"), _said(1), Verdict.TLE),
        (PY, _r("TLE", None, message="wall time limit 4.000 s exceeded"), _said(0), Verdict.TLE),
        (C, _r("MLE", None, signal=9, oom_killed=True), _said(1), Verdict.MLE),
        (C, _r("OLE", None), _said(2), Verdict.OLE),
        (C, _r("SV", None), _said(1), Verdict.SV),
        (PY, _r("RE", 1, stderr=b"MemoryError"), _said(1), Verdict.RE),
        # A crash of its own is RE, even when the interactor then reports the missing answer.
        (C, _r("RE", None, signal=11), _said(1, "no guess"), Verdict.RE),
        (PY, _r("RE", 1, stderr=b"ZeroDivisionError"), _said(1), Verdict.RE),
        (PY, _r("RE", 1, stderr=b"ZeroDivisionError"), _said(0), Verdict.RE),
        # Failing only because the interactor hung up first: the interactor's verdict stands.
        (C, _r("RE", None, signal=signal.SIGPIPE), _said(1, "too many"), Verdict.WA),
        (PY, _r("RE", 1, stderr=b"EOFError: EOF when reading a line"), _said(1), Verdict.WA),
        (PY, _r("RE", 1, stderr=b"BrokenPipeError: [Errno 32]"), _said(2), Verdict.PE),
        (C, _r("RE", 101, stderr=b"failed printing to stdout: Broken pipe"), _said(1), Verdict.WA),
        (PY, _r("TLE", None, message=IDLE), _said(1, "too many"), Verdict.WA),
        # ... but still running after an accepted conversation is not accepted.
        (PY, _r("TLE", None, message=IDLE), _said(0), Verdict.TLE),
        # The interactor could not write: the solution had already left.
        (C, _r(), _r("RE", None, signal=signal.SIGPIPE), Verdict.WA),
        (C, _r("RE", None, signal=11), _r("RE", None, signal=signal.SIGPIPE), Verdict.RE),
        # ... or, ignoring SIGPIPE, it failed on EPIPE with an exit code of its own.
        (C, _r(), _r("RE", 120, stderr=EPIPE), Verdict.WA),
        # ... or a shell wrapper (an ICPC run script) says its child died of SIGPIPE.
        (C, _r(), _r("RE", 128 + signal.SIGPIPE), Verdict.WA),
        (C, _r("RE", None, signal=11), _r("RE", 120, stderr=EPIPE), Verdict.RE),
        # A defined exit code is the interactor's verdict, whatever its stderr says.
        (C, _r(), _said(0, "Broken pipe"), Verdict.AC),
        (C, _r(), _said(2, "Broken pipe"), Verdict.PE),
    ],
)
def test_who_is_to_blame(
    solution: Program, sol: sandbox.Result, inter: sandbox.Result, verdict: Verdict
) -> None:
    assert interaction.judge(solution, sol, inter).verdict is verdict


def test_partial_points_and_messages() -> None:
    out = interaction.judge(PY, _r(), _said(7, "points 2.5\nclose"))
    assert (out.verdict, out.points) == (Verdict.WA, 2.5)
    assert interaction.judge(PY, _r(), _said(1, "wrong guess")).message == "wrong guess"
    ie = interaction.judge(PY, _r(), _said(3, "bad test"))
    assert ie.message == "interactor failed (exit 3): bad test"


@pytest.mark.parametrize(
    ("inter", "reason"),
    [
        (_r("RE", None, signal=6, message="killed by SIGABRT"), "interactor crashed"),
        (_r("TLE", None, message="cpu time limit 2.000 s exceeded"), "exceeded its limits"),
        (_r("MLE", None, oom_killed=True, message="memory limit"), "exceeded its limits"),
        (_r("TLE", None, message=IDLE), "did not end after the solution ended"),
        (_r("RE", 4, message="exited with code 4"), "interactor failed (exited with code 4)"),
        (_r("RE", 127, message="cannot execute"), "interactor failed (cannot execute)"),
    ],
)
def test_interactor_failures_are_internal_errors(inter: sandbox.Result, reason: str) -> None:
    with pytest.raises(InternalError, match=re.escape(reason)):
        interaction.judge(PY, _r(), inter)
    # ... unless the solution broke its own limits first: that verdict is certain.
    mle = _r("MLE", None, oom_killed=True)
    assert interaction.judge(C, mle, inter).verdict is Verdict.MLE


def test_sandbox_failure_on_either_side_is_internal() -> None:
    def broken(
        first: sandbox.Side, second: sandbox.Side, *, grace: float = 1.0
    ) -> tuple[sandbox.Result, sandbox.Result]:
        return _r(), _r("IE", None, message="helper crashed")

    with pytest.raises(InternalError, match="interactor side"):
        interaction.run(broken, PY, LIMITS, PY, b"1\n", b"", 0.5)

    def refusing(
        first: sandbox.Side, second: sandbox.Side, *, grace: float = 1.0
    ) -> tuple[sandbox.Result, sandbox.Result]:
        raise sandbox.SandboxError("no cgroups today")

    with pytest.raises(InternalError, match="no cgroups today"):
        interaction.run(refusing, PY, LIMITS, PY, b"1\n", b"", 0.5)


def test_interactor_gets_its_files_and_limits() -> None:
    seen: list[sandbox.Side] = []

    def recording(
        first: sandbox.Side, second: sandbox.Side, *, grace: float = 1.0
    ) -> tuple[sandbox.Result, sandbox.Result]:
        seen.extend((first, second))
        return _r(), _said(0)

    interaction.run(recording, C, LIMITS, PY, b"42\n", b"answer\n", 0.5)
    sol, inter = seen
    # testlib's contract: interactor INPUT OUTPUT ANSWER, its OUTPUT copied out for a checker
    assert list(inter.cmd[-3:]) == ["input.txt", "output.txt", "answer.txt"]
    assert "output.txt" in inter.copy_out
    assert inter.files is not None and inter.files["answer.txt"] == b"answer\n"
    assert inter.files is not None and inter.files["input.txt"] == b"42\n"
    assert sol.files is not None and "input.txt" not in sol.files  # the solution never sees it
    assert isinstance(inter.limits, dict) and inter.limits["cpu_time"] == 1.0
    assert inter.limits["wall_time"] > LIMITS.wall_time()  # a stall is the solution's limit
    seen.clear()
    interaction.run(recording, C, LIMITS, PY, b"42\n", b"", 0.5)
    # A test without an answer still passes the path: an empty file (testlib opens all three).
    assert seen[1].files is not None and seen[1].files["answer.txt"] == b""
    seen.clear()
    interaction.run(recording, C, LIMITS, PY, b"42\n", b"7\n", 0.5, protocol="icpc",
                    flags=("case_sensitive",))  # fmt: skip
    assert list(seen[1].cmd[-4:]) == ["input.txt", "answer.txt", "feedback/", "case_sensitive"]


def test_a_rejection_before_the_solutions_limit_is_the_verdict() -> None:
    # The interactor said WA at 0.05 s; the solution then spun until its CPU limit at 1.1 s.
    spun = _r("TLE", None, message="cpu time limit 1.000 s exceeded", wall_time=1.1)
    early = sandbox.Result(verdict=sandbox.Verdict.RUNTIME_ERROR, exit_code=1, wall_time=0.05,
                           stderr=b"wrong guess")  # fmt: skip
    out = interaction.judge(PY, spun, early)
    assert (out.verdict, out.message) == (Verdict.WA, "wrong guess")
    # Same words, but at the same moment as the limit: the solution's limit stands.
    late = sandbox.Result(verdict=sandbox.Verdict.RUNTIME_ERROR, exit_code=1, wall_time=1.0,
                          stderr=b"wrong guess")  # fmt: skip
    assert interaction.judge(PY, spun, late).verdict is Verdict.TLE
