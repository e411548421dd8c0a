"""Output checkers: compare a program's output with the expected answer.

Built-in checkers are pure functions. A ``custom`` checker is a program in any supported language,
compiled once per grading and run in the sandbox as ``checker input output answer`` with testlib
exit codes: 0 AC, 1 WA, 2 PE, 3 checker failure (IE), 7 partial credit with ``points N`` on
stderr, where N is the points earned on that test (capped at the test's points).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from store.vocab import Verdict

MESSAGE_LIMIT = 500  # characters of checker explanation kept per test


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict  # AC, WA, PE, or IE when the checker itself failed
    message: str = ""
    # Points earned on the test when the checker says so (exit 7); None: all or nothing.
    points: float | None = None


Check = Callable[[bytes, bytes, bytes], CheckResult]


def _short(b: bytes, n: int = 40) -> str:
    text = b.decode("utf-8", "replace")
    return text if len(text) <= n else text[: n - 3] + "..."


def _first_difference(got: list[bytes], want: list[bytes], what: str) -> str:
    for i, (g, w) in enumerate(zip(got, want, strict=False), 1):
        if g != w:
            return f"{what} {i}: expected {_short(w)!r}, found {_short(g)!r}"
    if len(got) < len(want):
        return f"output ends early: {len(got)} {what}s, expected {len(want)}"
    return f"extra output: {len(got)} {what}s, expected {len(want)}"


def check_exact(_input: bytes, output: bytes, answer: bytes) -> CheckResult:
    """Byte for byte. Right tokens in the wrong layout are PE."""
    if output == answer:
        return CheckResult(Verdict.AC)
    if output.split() == answer.split():
        return CheckResult(Verdict.PE, "whitespace differs from the expected output")
    return CheckResult(Verdict.WA, _first_difference(output.split(), answer.split(), "token"))


def check_tokens(_input: bytes, output: bytes, answer: bytes) -> CheckResult:
    """Whitespace-separated tokens; how they are spaced or broken into lines does not matter."""
    got, want = output.split(), answer.split()
    if got == want:
        return CheckResult(Verdict.AC)
    return CheckResult(Verdict.WA, _first_difference(got, want, "token"))


def _lines(b: bytes) -> list[bytes]:
    lines = [line.rstrip() for line in b.replace(b"\r\n", b"\n").split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def check_lines(_input: bytes, output: bytes, answer: bytes) -> CheckResult:
    """Line by line, ignoring trailing whitespace on each line and blank lines at the end.

    Same tokens broken into lines differently is PE, not WA: the answer is right, its form is not.
    """
    got, want = _lines(output), _lines(answer)
    if got == want:
        return CheckResult(Verdict.AC)
    if output.split() == answer.split():
        return CheckResult(Verdict.PE, _first_difference(got, want, "line"))
    return CheckResult(Verdict.WA, _first_difference(got, want, "line"))


_NUMBER = re.compile(rb"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def float_checker(abs_tol: float, rel_tol: float) -> Check:
    """Tokens, where numbers match within ``abs_tol`` or ``rel_tol`` (either suffices)."""

    def check(_input: bytes, output: bytes, answer: bytes) -> CheckResult:
        got, want = output.split(), answer.split()
        if len(got) != len(want):
            return CheckResult(Verdict.WA, _first_difference(got, want, "token"))
        for i, (g, w) in enumerate(zip(got, want, strict=True), 1):
            if g == w:
                continue
            if not (_NUMBER.match(w) and _NUMBER.match(g)):
                return CheckResult(
                    Verdict.WA, f"token {i}: expected {_short(w)!r}, found {_short(g)!r}"
                )
            gv, wv = float(g), float(w)
            err = abs(gv - wv)
            if not (math.isfinite(gv) and (err <= abs_tol or err <= rel_tol * abs(wv))):
                return CheckResult(
                    Verdict.WA,
                    f"number {i}: expected {_short(w)}, found {_short(g)} (difference {err:.3g})",
                )
        return CheckResult(Verdict.AC)

    return check


BUILTIN = ("exact", "tokens", "lines", "float")


def builtin(spec: Mapping[str, Any]) -> Check:
    """The checker function for a built-in checker spec (a problem's ``checker`` field)."""
    kind = spec.get("type", "tokens")
    if kind == "exact":
        return check_exact
    if kind == "tokens":
        return check_tokens
    if kind == "lines":
        return check_lines
    if kind == "float":
        return float_checker(float(spec.get("abs", 1e-6)), float(spec.get("rel", 1e-6)))
    raise ValueError(f"not a built-in checker: {kind!r}")


_POINTS = re.compile(rb"points\s+([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def from_exit_code(exit_code: int | None, stderr: bytes) -> CheckResult:
    """Interpret a testlib checker's (or interactor's) exit code and stderr."""
    message = stderr.decode("utf-8", "replace").strip()[:MESSAGE_LIMIT]
    if exit_code == 0:
        return CheckResult(Verdict.AC, message)
    if exit_code == 1:
        return CheckResult(Verdict.WA, message)
    if exit_code == 2:
        return CheckResult(Verdict.PE, message)
    if exit_code == 7:
        m = _POINTS.search(stderr)
        if m is None:
            return CheckResult(Verdict.IE, f"checker exited 7 without 'points N': {message}")
        return CheckResult(Verdict.WA, message, points=max(0.0, float(m.group(1))))
    return CheckResult(Verdict.IE, f"checker failed (exit {exit_code}): {message}")
