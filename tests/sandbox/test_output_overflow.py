"""What passing the output cap does (Limits.output_overflow): "kill" ends the program at once
(OLE); "truncate", DOMjudge's rule, drops the rest and lets it run, so a program that floods
forever is TLE, one that floods and then ends is OLE, and stderr never decides a verdict.
DOMjudge's own example problem expects TLE of its stdout and stderr flooders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import sandbox
from sandbox import SandboxError, Verdict

CAP = 64 << 10
FLOOD_FOREVER = "import sys\nwhile True:\n    sys.{stream}.write('x' * 4096)\n"
FLOOD_THEN_EXIT = "import sys\nsys.{stream}.write('x' * {size})\nsys.{stream}.flush()\n"

Run = Callable[..., sandbox.Result]


def _limits(overflow: str) -> dict[str, Any]:
    return {"cpu_time": 0.5, "wall_time": 2, "output": CAP, "output_overflow": overflow}


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_kill_ends_a_flood_at_once(box_py: Run, stream: str) -> None:
    r = box_py(FLOOD_FOREVER.format(stream=stream), _limits("kill"))
    assert r.verdict is Verdict.OUTPUT_LIMIT and stream in r.message, r.message
    assert r.cpu_time < 0.5  # ended by the cap, not by the clock


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_truncate_lets_an_endless_flood_run_into_its_time_limit(box_py: Run, stream: str) -> None:
    r = box_py(FLOOD_FOREVER.format(stream=stream), _limits("truncate"))
    assert r.verdict is Verdict.TIME_LIMIT, (r.verdict, r.message)
    kept = r.stdout if stream == "stdout" else r.stderr
    assert len(kept) == CAP and set(kept) == {ord("x")}


def test_truncate_judges_a_flood_that_ends_as_ole(box_py: Run) -> None:
    r = box_py(FLOOD_THEN_EXIT.format(stream="stdout", size=4 * CAP), _limits("truncate"))
    assert r.verdict is Verdict.OUTPUT_LIMIT and "dropped" in r.message, r.message
    assert r.exit_code == 0 and len(r.stdout) == CAP


def test_truncate_never_judges_stderr(box_py: Run) -> None:
    code = FLOOD_THEN_EXIT.format(stream="stderr", size=4 * CAP) + "print('done')\n"
    r = box_py(code, _limits("truncate"))
    assert r.verdict is Verdict.OK, (r.verdict, r.message)
    assert r.stdout == b"done\n" and len(r.stderr) == CAP


def test_within_the_cap_both_modes_are_the_same(box_py: Run) -> None:
    code = FLOOD_THEN_EXIT.format(stream="stdout", size=CAP)
    for overflow in ("kill", "truncate"):
        r = box_py(code, _limits(overflow))
        assert r.verdict is Verdict.OK and len(r.stdout) == CAP, (overflow, r.message)


def test_a_bad_mode_is_refused(cli: Callable[..., Any]) -> None:
    with pytest.raises(SandboxError, match="output_overflow: one of kill, truncate"):
        sandbox.Limits(output_overflow="drop")
    done = cli("run", "--output-overflow", "drop", "--", "/bin/true")
    assert done.returncode == 2 and b"output_overflow" in done.stderr
    assert done.stderr.count(b"\n") == 1, done.stderr
    ok = cli("run", "--output-overflow", "truncate", "--", "/bin/true")
    assert ok.returncode == 0, ok.stderr
