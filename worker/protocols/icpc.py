"""The ICPC problem package protocol (Kattis problemtools, DOMjudge): an output validator runs
as ``validator input answer feedback_dir [flags] < output`` and exits 42 (accepted) or 43
(wrong answer); it explains itself in ``feedback_dir/judgemessage.txt`` and may give the test a
score in ``feedback_dir/score.txt``. An interactive problem's validator is the same program
with the solution on its stdin and stdout. Input validators: ``validator [flags] < input``,
42 valid, 43 invalid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sandbox
from store.vocab import Verdict
from worker.checkers import MESSAGE_LIMIT, CheckResult
from worker.protocols import Call

INPUT, ANSWER, FEEDBACK = "input.txt", "answer.txt", "feedback"
MESSAGE_FILE = f"{FEEDBACK}/judgemessage.txt"
SCORE = f"{FEEDBACK}/score.txt"
NEXT_PASS = f"{FEEDBACK}/nextpass.in"  # multi-pass: the next pass's input
ACCEPTED, REJECTED = 42, 43
EXIT_CODES = frozenset({ACCEPTED, REJECTED})
_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$")


def _files(
    test_input: bytes, answer: bytes, feedback: Mapping[str, bytes] | None
) -> dict[str, bytes]:
    # The feedback directory must exist before the validator runs; an empty judgemessage.txt
    # makes it (validators open it for writing or appending).
    return {INPUT: test_input, ANSWER: answer, MESSAGE_FILE: b"", **(feedback or {})}


# The whole feedback directory comes back: what the validator chose to write is there (a
# score.txt it did not write is no copy-out error in its message), and a multi-pass
# validator's next pass gets it back (``carried``).
_COPY_OUT = (f"{FEEDBACK}/",)


def checker_call(
    test_input: bytes,
    output: bytes,
    answer: bytes,
    flags: tuple[str, ...],
    *,
    feedback: Mapping[str, bytes] | None = None,
) -> Call:
    """``feedback``: the feedback directory as an earlier pass left it (``carried``)."""
    return Call(
        args=(INPUT, ANSWER, f"{FEEDBACK}/", *flags),
        files=_files(test_input, answer, feedback),
        stdin=output,
        copy_out=_COPY_OUT,
    )


def next_pass(r: sandbox.Result) -> bytes | None:
    """The input of the next pass, when an accepting validator asked for one."""
    return r.files.get(NEXT_PASS) if r.exit_code == ACCEPTED else None


def carried(r: sandbox.Result) -> dict[str, bytes]:
    """What of a pass's feedback directory the next pass finds there: every file but
    nextpass.in ("All other files inside the feedback directory are guaranteed to persist
    between passes", the package format's multi-pass validation; a validator may keep its
    state there, as BAPCtools' validation.h does)."""
    return {
        name: data
        for name, data in r.files.items()
        if name.startswith(f"{FEEDBACK}/") and name != NEXT_PASS
    }


def interactor_call(
    test_input: bytes,
    answer: bytes,
    flags: tuple[str, ...],
    *,
    feedback: Mapping[str, bytes] | None = None,
) -> Call:
    """As ``checker_call``, with the solution on the other end of stdin and stdout."""
    return Call(
        args=(INPUT, ANSWER, f"{FEEDBACK}/", *flags),
        files=_files(test_input, answer, feedback),
        copy_out=_COPY_OUT,
    )


def verdict(r: sandbox.Result) -> CheckResult:
    message = r.files.get(MESSAGE_FILE, b"").decode("utf-8", "replace").strip()[:MESSAGE_LIMIT]
    if r.exit_code == REJECTED:
        return CheckResult(Verdict.WA, message)
    score = r.files.get(SCORE)
    if score is None or not score.strip():
        return CheckResult(Verdict.AC, message)
    m = _NUMBER.match(score.decode("utf-8", "replace"))
    if m is None:
        return CheckResult(
            Verdict.IE, f"validator wrote a score that is not a number: {score[:40]!r}"
        )
    return CheckResult(Verdict.AC, message, points=float(m.group(1)))
