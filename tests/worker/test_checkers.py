from __future__ import annotations

import pytest

import sandbox
from store import Verdict
from worker import checkers, protocols


@pytest.mark.parametrize(
    ("out", "ans", "verdict"),
    [
        (b"3\n", b"3\n", Verdict.AC),
        (b"3", b"3\n", Verdict.PE),
        (b"1  2\n", b"1 2\n", Verdict.PE),
        (b"4\n", b"3\n", Verdict.WA),
    ],
)
def test_exact(out: bytes, ans: bytes, verdict: Verdict) -> None:
    assert checkers.check_exact(b"", out, ans).verdict is verdict


@pytest.mark.parametrize(
    ("out", "ans", "verdict"),
    [
        (b"1\n2\n", b"1 2", Verdict.AC),
        (b"  1 2  \n\n", b"1 2\n", Verdict.AC),
        (b"1 2 3", b"1 2", Verdict.WA),
        (b"1", b"1 2", Verdict.WA),
        (b"", b"", Verdict.AC),
    ],
)
def test_tokens(out: bytes, ans: bytes, verdict: Verdict) -> None:
    assert checkers.check_tokens(b"", out, ans).verdict is verdict


def test_tokens_message_points_at_the_difference() -> None:
    r = checkers.check_tokens(b"", b"1 5 3", b"1 2 3")
    assert r.message == "token 2: expected '2', found '5'"
    assert "ends early" in checkers.check_tokens(b"", b"1", b"1 2").message


@pytest.mark.parametrize(
    ("out", "ans", "verdict"),
    [
        (b"a b  \nc\n\n\n", b"a b\nc", Verdict.AC),
        (b"a b\r\nc\r\n", b"a b\nc\n", Verdict.AC),
        (b"a\nb c\n", b"a b\nc\n", Verdict.PE),
        (b"  a b\nc\n", b"a b\nc\n", Verdict.PE),  # leading whitespace is layout too
        (b"a b\nd\n", b"a b\nc\n", Verdict.WA),
    ],
)
def test_lines(out: bytes, ans: bytes, verdict: Verdict) -> None:
    assert checkers.check_lines(b"", out, ans).verdict is verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        (b"0.3333", Verdict.AC),  # abs error 3.3e-5
        (b"0.33", Verdict.WA),
        (b"3.33333e-1", Verdict.AC),
        (b"nan", Verdict.WA),
        (b"x", Verdict.WA),
        (b"0.3333 1", Verdict.WA),
    ],
)
def test_float_absolute(out: bytes, verdict: Verdict) -> None:
    check = checkers.builtin({"type": "float", "abs": 1e-4, "rel": 0})
    assert check(b"", out, b"0.333333").verdict is verdict


def test_float_relative_for_big_numbers() -> None:
    check = checkers.builtin({"type": "float", "abs": 0, "rel": 1e-6})
    assert check(b"", b"1000000001", b"1000000000").verdict is Verdict.AC
    assert check(b"", b"1000010000", b"1000000000").verdict is Verdict.WA
    assert check(b"", b"abc 1", b"abc 1.0000000001").verdict is Verdict.AC


@pytest.mark.parametrize(
    ("code", "stderr", "verdict", "points"),
    [
        (0, b"ok", Verdict.AC, None),
        (1, b"wrong", Verdict.WA, None),
        (2, b"", Verdict.PE, None),
        (3, b"bug", Verdict.IE, None),
        (7, b"partially correct\npoints 2.5\n", Verdict.WA, 2.5),
        (7, b"no number", Verdict.IE, None),
        (None, b"", Verdict.IE, None),
        (139, b"", Verdict.IE, None),
    ],
)
def test_testlib_exit_codes(
    code: int | None, stderr: bytes, verdict: Verdict, points: float | None
) -> None:
    ran = sandbox.Result(verdict=sandbox.Verdict.OK if code == 0 else sandbox.Verdict.RUNTIME_ERROR,
                         exit_code=code, stderr=stderr)  # fmt: skip
    r = protocols.testlib.verdict(ran)
    assert (r.verdict, r.points) == (verdict, points)
