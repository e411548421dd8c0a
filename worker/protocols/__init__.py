"""Checker and interactor protocols: how the problem's own programs are called, and how their
exit code and files become a verdict (DESIGN 3.4). One module per protocol, same interface:

- ``checker_call(test_input, output, answer, flags) -> Call``: argv tail, files, stdin, copy-out
  of a checker run;
- ``interactor_call(test_input, answer, flags) -> Call``: the same for an interactor (no stdin:
  the solution's stdout is its stdin);
- ``EXIT_CODES``: the exit codes with a defined meaning; any other one is the tool's failure;
- ``verdict(result) -> CheckResult``: the verdict of a tool that ended on its own.

:func:`judged` wraps ``verdict`` with the rule every protocol shares: a crash, a limit or an
undefined exit code is IE, kept for admins, never the contestant's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

import sandbox
from store.vocab import Verdict
from worker.checkers import MESSAGE_LIMIT, CheckResult

NAMES = ("testlib", "icpc")


@dataclass(frozen=True)
class Call:
    """One run of a checker or interactor: what goes after its command, and into its box."""

    args: tuple[str, ...]
    files: dict[str, bytes]
    stdin: bytes = b""
    copy_out: tuple[str, ...] = field(default=())


def get(name: str | None) -> ModuleType:
    return icpc if name == "icpc" else testlib


def failure(what: str, r: sandbox.Result) -> str | None:
    """Why a finished tool run says nothing about the contestant, or None when it does."""
    if r.verdict not in (sandbox.Verdict.OK, sandbox.Verdict.RUNTIME_ERROR):
        return f"{what} did not finish: {r.message}"
    if r.signal is not None:
        return f"{what} crashed: {r.message or f'signal {r.signal}'}"
    return None


def tail(data: bytes) -> str:
    return data.decode("utf-8", "replace").strip()[-MESSAGE_LIMIT:]


def judged(protocol: ModuleType, what: str, r: sandbox.Result) -> CheckResult:
    """The verdict of one checker run under ``protocol``: IE unless it ended as defined."""
    why = failure(what, r)
    if why is None and r.exit_code not in protocol.EXIT_CODES:
        why = f"{what} failed (exit code {r.exit_code})"
    if why is not None:
        detail = tail(r.stderr) or tail(r.stdout)
        return CheckResult(Verdict.IE, f"{why}: {detail}" if detail else why)
    result: CheckResult = protocol.verdict(r)
    if result.verdict is Verdict.IE:
        # The protocol's own failure words ("failed (exit 3): ..."), named for the admin.
        return CheckResult(Verdict.IE, f"{what} {result.message}")
    return result


# Last: each protocol module imports Call from here.
from worker.protocols import icpc, testlib  # noqa: E402
