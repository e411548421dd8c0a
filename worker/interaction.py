"""Interactive tests: the solution and the problem's interactor in two boxes, talking by pipes.

The interactor runs in its own box as its protocol says (worker.protocols): testlib's
``interactor input.txt output.txt answer.txt`` (``output.txt`` is its own file, copied out for
the problem's checker; ``answer.txt`` is empty when the test has none) or the ICPC validator's
``validator input.txt answer.txt feedback/ [flags]``. The test's files are copied into its box
only; the solution never sees them. Each side's stdout is the other's stdin
(``sandbox.run_interactive``).

Who is to blame decides the verdict (:func:`judge`), in this order:

1. The solution broke one of its own limits (CPU or wall time, memory, output, a blocked
   syscall): that verdict, whatever the interactor said afterwards.
2. The interactor failed as a program (its limits, a crash, an exit code testlib does not
   define): an internal error, retried by the pipeline, never the submitter's verdict. Not
   when it failed writing to a solution that had hung up (SIGPIPE, or EPIPE in a runtime
   that ignores SIGPIPE, like Python's exit 120): the solution ended the interaction early.
3. The solution crashed on its own: RE. A crash that only follows the interactor hanging up
   (EOF on stdin, a broken pipe, SIGPIPE, or being killed for idleness after the interactor
   ended) is not one: the interactor's verdict stands, as contest users expect.
4. Otherwise the interactor's verdict under its protocol: AC, WA, PE, partial points, or IE
   (testlib's exit 3).
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

import sandbox
from store.vocab import Verdict
from worker import checkers, protocols
from worker.errors import InternalError
from worker.execution import Program, RunLimits, box_disk, run_verdict

# After one side ends, the other has this long to end too before it is killed (idleness).
# Long enough for a JVM to exit after the last answer, short enough not to stall a test.
GRACE = 1.0
INTERACTOR_MEMORY = 256 << 20
INTERACTOR_OUTPUT = 1 << 20  # of its stderr, where its message is
# Every runtime that reports a write to a pipe without a reader prints strerror(EPIPE).
_HANGUP_ANYWHERE = (b"Broken pipe",)
_SHELL_SIGPIPE = 128 + signal.SIGPIPE


class Interact(Protocol):
    """The shape of ``sandbox.run_interactive``; tests of the error paths pass their own."""

    def __call__(
        self, first: sandbox.Side, second: sandbox.Side, *, grace: float = ...
    ) -> tuple[sandbox.Result, sandbox.Result]: ...


def sandbox_interact(
    first: sandbox.Side, second: sandbox.Side, *, grace: float = GRACE
) -> tuple[sandbox.Result, sandbox.Result]:
    return sandbox.run_interactive(first, second, grace=grace)


def interactor_limits(
    time_limit: float, solution_wall: float, cpu: float | None = None, memory: int | None = None
) -> RunLimits:
    """Twice the problem's CPU time (at least a second, for interpreter start-up) and 256 MiB,
    or the package's validation limits. Its wall limit always outlasts the solution's, so a
    conversation that stalls is ended by the solution's limit, not the interactor's, and the
    stall is blamed on the solution."""
    cpu_time = cpu if cpu is not None else max(2.0 * time_limit, 1.0)
    wall = max(cpu_time * 3 + 1, solution_wall + 2 * GRACE)
    return RunLimits(cpu_time, memory or INTERACTOR_MEMORY, INTERACTOR_OUTPUT, wall=wall)


def run(
    interact: Interact,
    solution: Program,
    limits: RunLimits,
    interactor: Program,
    test_input: bytes,
    answer: bytes,
    time_limit: float,
    *,
    protocol: str = "testlib",
    flags: tuple[str, ...] = (),
    tool_limits: RunLimits | None = None,
    pass_feedback: Mapping[str, bytes] | None = None,
) -> tuple[sandbox.Result, sandbox.Result]:
    """One interactive test: (the solution's Result, the interactor's Result).

    ``pass_feedback``: a pass of an ICPC multi-pass problem, with the feedback directory as
    the last pass left it; the interactor's whole directory is then brought back. A failure
    of the sandbox itself (on either side) is InternalError, never a verdict."""
    ilimits = tool_limits or interactor_limits(time_limit, limits.wall_time())
    if pass_feedback is not None:
        call = protocols.icpc.interactor_call(
            test_input, answer, flags, feedback=pass_feedback
        )
    else:
        call = protocols.get(protocol).interactor_call(test_input, answer, flags)
    sol_lang, int_lang = solution.language, interactor.language
    first = sandbox.Side(
        solution.command(limits.memory),
        {**limits.for_sandbox(sol_lang), "disk": box_disk(solution.files)},
        files=dict(solution.files),
        executables=sol_lang.executables_in(solution.files),
        binds=sol_lang.binds,
    )
    second = sandbox.Side(
        interactor.command(ilimits.memory) + list(call.args),
        {**ilimits.for_sandbox(int_lang), "disk": box_disk({**interactor.files, **call.files})},
        files={**interactor.files, **call.files},
        executables=int_lang.executables_in(interactor.files),
        binds=int_lang.binds,
        copy_out=call.copy_out,
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


def _interactor_hung_up(r: sandbox.Result, exit_codes: frozenset[int]) -> bool:
    """Did the interactor end only because the solution had closed the conversation? It
    wrote to a pipe with no reader left: SIGPIPE; or, run by a shell wrapper (an ICPC ``run``
    script), exit 141, the shell's word for a child SIGPIPE killed; or, in a runtime that
    ignores SIGPIPE (Python), EPIPE on its stderr and an exit code of its own (Python's 120
    when flushing stdout at exit fails). Its stdout is the solution's stdin and nothing else,
    so only the solution can have closed it. A defined exit code is still the interactor's
    verdict."""
    if r.signal == signal.SIGPIPE:
        return True
    return (
        r.verdict in (sandbox.Verdict.OK, sandbox.Verdict.RUNTIME_ERROR)
        and r.signal is None
        and r.exit_code not in exit_codes
        and (
            r.exit_code == _SHELL_SIGPIPE or any(m in r.stderr for m in _HANGUP_ANYWHERE)
        )
    )


def _interactor_failure(r: sandbox.Result, exit_codes: frozenset[int]) -> str | None:
    """Why the interactor's run says nothing about the solution, or None if it does."""
    if r.verdict in (sandbox.Verdict.OK, sandbox.Verdict.RUNTIME_ERROR):
        if _interactor_hung_up(r, exit_codes):
            return None  # it wrote after the solution had ended: the solution hung up first
        if r.signal is not None:
            return f"interactor crashed: {r.message}"
        if r.exit_code not in exit_codes:
            detail = r.stderr.decode("utf-8", "replace").strip()[-300:]
            why = f"interactor failed ({r.message or f'exit code {r.exit_code}'})"
            return f"{why}: {detail}" if detail else why
        return None
    if _idle_killed(r):
        return "interactor did not end after the solution ended (idleness)"
    return f"interactor exceeded its limits: {r.message}"


def _rejected_first(
    spoken: ModuleType, sol: sandbox.Result, inter: sandbox.Result
) -> Outcome | None:
    """The interactor's WA or PE when it gave it clearly before the solution hit a limit.

    A solution that gets "wrong" and then spins (it waits for an answer that never comes) is
    wrong, not slow: problemtools' guess ships such a solution under wrong_answer. Half the
    grace period of margin keeps the order unambiguous."""
    if _interactor_failure(inter, spoken.EXIT_CODES) is not None or inter.signal is not None:
        return None
    if not inter.wall_time + GRACE / 2 < sol.wall_time:
        return None
    said: checkers.CheckResult = spoken.verdict(inter)
    if said.verdict in (Verdict.WA, Verdict.PE):
        return Outcome(said.verdict, said.message, said.points)
    return None


def judge(
    solution: Program, sol: sandbox.Result, inter: sandbox.Result, protocol: str = "testlib"
) -> Outcome:
    """The test's verdict from both sides' Results (the order in the module docstring).

    Raises InternalError when the interactor failed and the solution did nothing wrong."""
    lang = solution.language
    spoken = protocols.get(protocol)
    own = run_verdict(lang, sol)
    if own in (Verdict.TLE, Verdict.MLE, Verdict.OLE, Verdict.SV) and not _idle_killed(sol):
        rejected = _rejected_first(spoken, sol, inter)
        if rejected is not None:
            return rejected
        return Outcome(own, sol.message)
    failure = _interactor_failure(inter, spoken.EXIT_CODES)
    if failure is not None:
        raise InternalError(failure)
    crashed = own is not None  # RE, or killed for idleness after the interactor ended
    if _interactor_hung_up(inter, spoken.EXIT_CODES):
        # The interactor could not even write: the solution had closed the conversation.
        if crashed and not _hung_up_on(solution, sol):
            return Outcome(Verdict.RE, sol.message)
        return Outcome(Verdict.WA, "the solution ended the interaction early")
    said: checkers.CheckResult = spoken.verdict(inter)
    if said.verdict is Verdict.IE:
        # testlib's exit 3 (or 7 without points): the interactor's own failure, named as such.
        said = checkers.CheckResult(Verdict.IE, f"interactor {said.message}")
    if crashed and not _hung_up_on(solution, sol):
        return Outcome(Verdict.RE, sol.message)
    if _idle_killed(sol) and said.verdict is Verdict.AC:
        return Outcome(Verdict.TLE, "idleness: the solution did not exit after the interaction")
    return Outcome(said.verdict, said.message, said.points)
