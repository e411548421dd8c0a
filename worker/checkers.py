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


_FLOAT_TOKEN = re.compile(
    rb"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$", re.IGNORECASE
)


def _float_match(g: bytes, w: bytes, abs_tol: float, rel_tol: float) -> bool:
    gv, wv = float(g), float(w)
    if math.isnan(wv) or math.isnan(gv):
        return math.isnan(wv) and math.isnan(gv)
    if math.isinf(wv) or math.isinf(gv):
        return gv == wv
    err = abs(gv - wv)
    return err <= abs_tol or err <= rel_tol * abs(wv)


def icpc_checker(
    *,
    case_sensitive: bool,
    space_change_sensitive: bool,
    abs_tol: float | None,
    rel_tol: float | None,
) -> Check:
    """The ICPC default output validator's comparison, with its flags.

    Token by token; a token of the answer that is a number (``nan`` and ``inf`` included)
    matches a number within either tolerance when one is given; other tokens match exactly, or
    ignoring case. With ``space_change_sensitive`` the whitespace between tokens must match too.
    """
    use_float = abs_tol is not None or rel_tol is not None
    a_tol, r_tol = abs_tol or 0.0, rel_tol or 0.0

    def same(g: bytes, w: bytes) -> bool:
        if g == w:
            return True
        if use_float and _FLOAT_TOKEN.match(w):
            return bool(_FLOAT_TOKEN.match(g)) and _float_match(g, w, a_tol, r_tol)
        return not case_sensitive and g.lower() == w.lower()

    def check(_input: bytes, output: bytes, answer: bytes) -> CheckResult:
        if space_change_sensitive:
            got, want = re.split(rb"(\s+)", output), re.split(rb"(\s+)", answer)
            spaced = [(i, g, w) for i, (g, w) in enumerate(zip(got, want, strict=False))]
            for i, g, w in spaced:
                if (i % 2 and g != w) or (not i % 2 and not same(g, w)):
                    what = "whitespace" if i % 2 else "token"
                    return CheckResult(Verdict.WA, f"{what} {i // 2 + 1} differs")
            if len(got) != len(want):
                return CheckResult(Verdict.WA, _first_difference(got, want, "part"))
            return CheckResult(Verdict.AC)
        got, want = output.split(), answer.split()
        for i, (g, w) in enumerate(zip(got, want, strict=False), 1):
            if not same(g, w):
                return CheckResult(
                    Verdict.WA, f"token {i}: expected {_short(w)!r}, found {_short(g)!r}"
                )
        if len(got) != len(want):
            return CheckResult(Verdict.WA, _first_difference(got, want, "token"))
        return CheckResult(Verdict.AC)

    return check


BUILTIN = ("exact", "tokens", "lines", "float")
FLAG_KEYS = (
    "case_sensitive",
    "space_change_sensitive",
    "float_relative_tolerance",
    "float_absolute_tolerance",
    "float_tolerance",
)


def builtin(spec: Mapping[str, Any]) -> Check:
    """The checker function for a built-in checker spec (a problem's ``checker`` field).

    Any of the ICPC default validator's flags on ``tokens`` (or ``float``) selects that
    validator's comparison (:func:`icpc_checker`)."""
    kind = spec.get("type", "tokens")
    if kind in ("tokens", "float") and any(k in spec for k in FLAG_KEYS):
        tol = spec.get("float_tolerance")
        abs_tol = spec.get("float_absolute_tolerance", tol)
        rel_tol = spec.get("float_relative_tolerance", tol)
        if kind == "float":
            abs_tol = spec.get("abs", 1e-6) if abs_tol is None else abs_tol
            rel_tol = spec.get("rel", 1e-6) if rel_tol is None else rel_tol
        return icpc_checker(
            case_sensitive=bool(spec.get("case_sensitive", True)),
            space_change_sensitive=bool(spec.get("space_change_sensitive", False)),
            abs_tol=None if abs_tol is None else float(abs_tol),
            rel_tol=None if rel_tol is None else float(rel_tol),
        )
    if kind == "exact":
        return check_exact
    if kind == "tokens":
        return check_tokens
    if kind == "lines":
        return check_lines
    if kind == "float":
        return float_checker(float(spec.get("abs", 1e-6)), float(spec.get("rel", 1e-6)))
    raise ValueError(f"not a built-in checker: {kind!r}")
