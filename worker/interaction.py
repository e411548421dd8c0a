"""Interactive tests: the solution and the problem's interactor in two boxes, talking by pipes.

The interactor runs as ``interactor input.txt [answer.txt]`` (DESIGN 3.4) in its own box, with
the test's input (and its expected output, when the test has one) copied in; the solution never
sees those files. Each side's stdout is the other's stdin (``sandbox.run_interactive``). The
interactor answers with testlib exit codes (worker.checkers.from_exit_code).

Who is to blame decides the verdict (:func:`judge`), in this order:

1. The solution broke one of its own limits (CPU or wall time, memory, output, a blocked
   syscall): that verdict, whatever the interactor said afterwards.
2. The interactor failed as a program (its limits, a crash, an exit code testlib does not
   define): an internal error, retried by the pipeline, never the submitter's verdict.
3. The solution crashed on its own: RE. A crash that only follows the interactor hanging up
   (EOF on stdin, a broken pipe, SIGPIPE, or being killed for idleness after the interactor
   ended) is not one: the interactor's verdict stands, as contest users expect.
4. Otherwise the interactor's verdict: AC, WA, PE, partial points (exit 7) or IE (exit 3).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Protocol

import sandbox
from store.vocab import Verdict
from worker import checkers
from worker.errors import InternalError
from worker.execution import Program, RunLimits, run_verdict

INPUT_FILE = "input.txt"
ANSWER_FILE = "answer.txt"
# After one side ends, the other has this long to end too before it is killed (idleness).
# Long enough for a JVM to exit after the last answer, short enough not to stall a test.
GRACE = 1.0
INTERACTOR_MEMORY = 256 << 20
INTERACTOR_OUTPUT = 1 << 20  # of its stderr, where its message is
# Every runtime that reports a write to a pipe without a reader prints strerror(EPIPE).
_HANGUP_ANYWHERE = (b"Broken pipe",)


class Interact(Protocol):
    """The shape of ``sandbox.run_interactive``; tests of the error paths pass their own."""

    def __call__(
        self, first: sandbox.Side, second: sandbox.Side, *, grace: float = ...
    ) -> tuple[sandbox.Result, sandbox.Result]: ...


def sandbox_interact(
    first: sandbox.Side, second: sandbox.Side, *, grace: float = GRACE
) -> tuple[sandbox.Result, sandbox.Result]:
    return sandbox.run_interactive(first, second, grace=grace)


def interactor_limits(time_limit: float) -> RunLimits:
    """Generous and fixed: twice the problem's CPU time (at least a second, for interpreter
    start-up) and 256 MiB. Its wall limit (three times its CPU, plus one) always outlasts the
    solution's, so a conversation that stalls is ended by the solution's limit, not the
    interactor's, and the stall is blamed on the solution."""
    return RunLimits(max(2.0 * time_limit, 1.0), INTERACTOR_MEMORY, INTERACTOR_OUTPUT)


def run(
    interact: Interact,
    solution: Program,
    limits: RunLimits,
    interactor: Program,
    test_input: bytes,
    answer: bytes,
    time_limit: float,
) -> tuple[sandbox.Result, sandbox.Result]:
    """One interactive test: (the solution's Result, the interactor's Result).

    A failure of the sandbox itself (on either side) is InternalError, never a verdict."""
    ilimits = interactor_limits(time_limit)
    # The answer file is passed only when the test has one (DESIGN 3.4: "if any").
    files: dict[str, bytes] = {INPUT_FILE: test_input}
    if answer:
        files[ANSWER_FILE] = answer
    sol_lang, int_lang = solution.language, interactor.language
    first = sandbox.Side(
        solution.command(limits.memory),
        limits.for_sandbox(sol_lang),
        files=dict(solution.files),
        executables=[e for e in sol_lang.executables if e in solution.files],
        binds=sol_lang.binds,
    )
    second = sandbox.Side(
        interactor.command(ilimits.memory) + list(files),
        ilimits.for_sandbox(int_lang),
        files={**interactor.files, **files},
        executables=[e for e in int_lang.executables if e in interactor.files],
        binds=int_lang.binds,
    )
    try:
        sol, inter = interact(first, second, grace=GRACE)
    except sandbox.SandboxError as e:
        raise InternalError(f"sandbox refused the interactive run: {e}") from e
    except OSError as e:
        raise InternalError(f"sandbox failed: {e}") from e
    for who, r in (("solution", sol), ("interactor", inter)):
        if r.verdict is sandbox.Verdict.INTERNAL_ERROR:
            raise InternalError(f"sandbox internal error ({who} side): {r.message or 'no details'}")
    return sol, inter


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    message: str
    points: float | None = None  # from the interactor's exit 7; None: all or nothing


def _idle_killed(r: sandbox.Result) -> bool:
    # The sandbox kills a side that outlives the other by the grace period with TLE and a
    # message starting "idleness"; a TLE of its own CPU or wall limit says "limit" instead.
    return r.verdict is sandbox.Verdict.TIME_LIMIT and r.message.startswith("idleness")


def _hung_up_on(solution: Program, r: sandbox.Result) -> bool:
    """Did the solution fail only because the interactor had already hung up?"""
    if r.signal == signal.SIGPIPE or _idle_killed(r):
        return True
    markers = _HANGUP_ANYWHERE + solution.language.hangup_markers
    return any(m in r.stderr for m in markers)


def _interactor_failure(r: sandbox.Result) -> str | None:
    """Why the interactor's run says nothing about the solution, or None if it does."""
    if r.verdict in (sandbox.Verdict.OK, sandbox.Verdict.RUNTIME_ERROR):
        if r.signal == signal.SIGPIPE:
            return None  # it wrote after the solution had ended: the solution hung up first
        if r.signal is not None:
            return f"interactor crashed: {r.message}"
        if r.exit_code not in (0, 1, 2, 3, 7):
            detail = r.stderr.decode("utf-8", "replace").strip()[-300:]
            why = f"interactor failed ({r.message or f'exit code {r.exit_code}'})"
            return f"{why}: {detail}" if detail else why
        return None
    if _idle_killed(r):
        return "interactor did not end after the solution ended (idleness)"
    return f"interactor exceeded its limits: {r.message}"


def judge(solution: Program, sol: sandbox.Result, inter: sandbox.Result) -> Outcome:
    """The test's verdict from both sides' Results (the order in the module docstring).

    Raises InternalError when the interactor failed and the solution did nothing wrong."""
    lang = solution.language
    own = run_verdict(lang, sol)
    if own in (Verdict.TLE, Verdict.MLE, Verdict.OLE, Verdict.SV) and not _idle_killed(sol):
        return Outcome(own, sol.message)
    failure = _interactor_failure(inter)
    if failure is not None:
        raise InternalError(failure)
    crashed = own is not None  # RE, or killed for idleness after the interactor ended
    if inter.signal == signal.SIGPIPE:
        # The interactor could not even write: the solution had closed the conversation.
        if crashed and not _hung_up_on(solution, sol):
            return Outcome(Verdict.RE, sol.message)
        return Outcome(Verdict.WA, "the solution ended the interaction early")
    said = checkers.from_exit_code(inter.exit_code, inter.stderr)
    if said.verdict is Verdict.IE:
        # Exit 3 (or 7 without points): the interactor's own failure, named as such.
        said = checkers.CheckResult(Verdict.IE, said.message.replace("checker", "interactor", 1))
    if crashed and not _hung_up_on(solution, sol):
        return Outcome(Verdict.RE, sol.message)
    if _idle_killed(sol) and said.verdict is Verdict.AC:
        return Outcome(Verdict.TLE, "idleness: the solution did not exit after the interaction")
    return Outcome(said.verdict, said.message, said.points)
