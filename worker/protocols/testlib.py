"""testlib's protocol (Codeforces, Polygon): ``checker input output answer`` and
``interactor input output answer``.

Exit codes: 0 AC, 1 WA, 2 PE, 3 judge failure (IE), 7 points. Points come on stderr as
``points X message`` (``quitp``) or ``points points_info=X message`` (``quitpi``). An
interactor writes ``output`` for the problem's checker, which then runs on it.
"""

from __future__ import annotations

import re

import sandbox
from store.vocab import Verdict
from worker.checkers import MESSAGE_LIMIT, CheckResult
from worker.protocols import Call

INPUT, OUTPUT, ANSWER = "input.txt", "output.txt", "answer.txt"
EXIT_CODES = frozenset({0, 1, 2, 3, 7})
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_POINTS = re.compile(rf"^\s*points\s+(?:points_info=)?({_NUMBER})", re.MULTILINE)
_POINTS_INFO = re.compile(r"^\s*points\s+points_info=(\S*)", re.MULTILINE)


def checker_call(test_input: bytes, output: bytes, answer: bytes, flags: tuple[str, ...]) -> Call:
    return Call(
        args=(INPUT, OUTPUT, ANSWER, *flags),
        files={INPUT: test_input, OUTPUT: output, ANSWER: answer},
    )


def interactor_call(test_input: bytes, answer: bytes, flags: tuple[str, ...]) -> Call:
    # testlib opens all three: ``output`` is the interactor's own file (what it tells the
    # checker); ``answer`` is empty when the test has none. Calling it with two arguments made
    # testlib take the answer path for its output and overwrite it (every solution AC).
    return Call(
        args=(INPUT, OUTPUT, ANSWER, *flags),
        files={INPUT: test_input, ANSWER: answer},
        copy_out=(OUTPUT,),
    )


def verdict(r: sandbox.Result) -> CheckResult:
    message = r.stderr.decode("utf-8", "replace").strip()[:MESSAGE_LIMIT]
    code = r.exit_code
    if code == 0:
        return CheckResult(Verdict.AC, message)
    if code == 1:
        return CheckResult(Verdict.WA, message)
    if code == 2:
        return CheckResult(Verdict.PE, message)
    if code == 7:
        text = r.stderr.decode("utf-8", "replace")
        m = _POINTS.search(text)
        if m is not None:
            return CheckResult(Verdict.WA, message, points=max(0.0, float(m.group(1))))
        info = _POINTS_INFO.search(text)
        if info is not None:
            # quitpi with points_info that is not a number: the test earns nothing, and the
            # info stays in the message.
            return CheckResult(Verdict.WA, message, points=0.0)
        return CheckResult(Verdict.IE, _joined("exited 7 without 'points X'", message))
    return CheckResult(Verdict.IE, _joined(f"failed (exit {code})", message))


def _joined(why: str, message: str) -> str:
    return f"{why}: {message}" if message else why
