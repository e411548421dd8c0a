"""A stalled supervisor never invents a verdict (sandbox/_watch.py, sandbox/_verdict.py).

The process calling `sandbox.run` can be descheduled or stopped for longer than a run's wall
limit (a busy judge, a debugger, SIGSTOP). The box keeps running meanwhile; a program that
ended inside its limits must keep its own verdict when the supervisor wakes up late, and a
program that really overran must still be TLE. Each case runs `sandbox.run` in a child
process and SIGSTOPs that child from here for longer than the limit, at a chosen moment of
the run: while the box starts, while the program runs, while its output is drained, and
around its exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root")

STALL = 1.6  # seconds the supervisor is stopped: longer than every wall limit below
SCALE = float(os.environ.get("SANDBOX_TEST_TIME_SCALE", "1"))

_CHILD = r"""
import json, sys, sandbox
from sandbox import Side
case = json.loads(sys.argv[1])
sandbox.run(["/bin/true"])  # warm: imports and the first box are not part of the run
print("ready", flush=True)
sys.stdin.readline()
def out(r):
    return {"verdict": r.verdict.value, "wall": r.wall_time, "cpu": r.cpu_time,
            "exit": r.exit_code, "stdout": r.stdout.decode(), "message": r.message}
if case["kind"] == "run":
    print(json.dumps([out(sandbox.run(case["cmd"], case["limits"]))]), flush=True)
else:
    a, b = sandbox.run_interactive(Side(case["first"], case["limits"]),
                                   Side(case["second"], case["limits"]), grace=0.5)
    print(json.dumps([out(a), out(b)]), flush=True)
"""


def stalled(case: dict[str, Any], stop_at: float) -> list[dict[str, Any]]:
    """Run the case in a child; `stop_at` seconds after it starts the run, stop the child for
    STALL seconds."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(case)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("\n")
        child.stdin.flush()
        time.sleep(stop_at)
        os.kill(child.pid, signal.SIGSTOP)
        try:
            time.sleep(STALL)
        finally:
            os.kill(child.pid, signal.SIGCONT)
        line = child.stdout.readline()
        assert child.wait(timeout=30) == 0
        results: list[dict[str, Any]] = json.loads(line)
        return results
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGCONT)
            child.kill()
            child.wait()


SHORT = {"kind": "run", "cmd": ["/bin/sh", "-c", "sleep 0.5; echo 3"],
         "limits": {"wall_time": 1}}


@pytest.mark.parametrize("stop_at", [0.0, 0.05, 0.3, 0.49, 0.52, 0.7],
                         ids=["start", "early", "running", "before-exit", "at-exit", "after"])
def test_a_program_that_ended_in_time_keeps_its_verdict(stop_at: float) -> None:
    (r,) = stalled(SHORT, stop_at)
    assert r["verdict"] == "OK", r
    assert r["exit"] == 0 and r["stdout"] == "3\n"
    assert 0.5 <= r["wall"] < 1.0


def test_a_stall_while_output_is_drained() -> None:
    # 48 KiB: less than a pipe buffer, so the program never waits for us to read it.
    case = {"kind": "run", "limits": {"wall_time": 1},
            "cmd": ["/bin/sh", "-c", "sleep 0.3; head -c 49152 /dev/zero | tr '\\0' x"]}
    (r,) = stalled(case, 0.25)
    assert r["verdict"] == "OK", r
    assert r["stdout"] == "x" * 49152


def test_cpu_used_within_the_limit_is_not_tle() -> None:
    spin = "end=$(( $(date +%s%N) + 400000000 )); while [ $(date +%s%N) -lt $end ]; do :; done"
    case = {"kind": "run", "cmd": ["/bin/sh", "-c", spin],
            "limits": {"cpu_time": 1, "wall_time": 1.2}}
    (r,) = stalled(case, 0.1)
    assert r["verdict"] == "OK", r
    assert r["cpu"] < 1.0


def test_a_program_that_overran_is_still_tle() -> None:
    # The stall must not hide a real overrun either: this one runs past its limit while we
    # are stopped, and is found and killed when we wake.
    case = {"kind": "run", "cmd": ["/bin/sleep", "5"], "limits": {"wall_time": 1}}
    (r,) = stalled(case, 0.1)
    assert r["verdict"] == "TLE", r
    assert "wall time limit" in r["message"]
    assert r["wall"] >= 1.0


@pytest.mark.parametrize("stop_at", [0.05, 0.35], ids=["talking", "one-side-ended"])
def test_an_interactive_pair_that_ended_in_time_keeps_its_verdicts(stop_at: float) -> None:
    case = {"kind": "interactive", "limits": {"wall_time": 1},
            "first": ["/bin/sh", "-c", "echo 41; read x; [ \"$x\" = 42 ] || exit 3; sleep 0.5"],
            "second": ["/bin/sh", "-c", "read n; echo $((n + 1)); sleep 0.3"]}
    first, second = stalled(case, stop_at)
    assert (first["verdict"], first["exit"]) == ("OK", 0), first
    assert (second["verdict"], second["exit"]) == ("OK", 0), second
    assert first["wall"] < 1.0 and second["wall"] < 1.0


def _init_of(program: str, deadline: float) -> int:
    """The host pid of the box init (pid 1 of its namespace) whose child runs `program`."""
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() != program:
                        continue
                with open(f"/proc/{entry}/status") as handle:
                    fields = dict(line.split(":", 1) for line in handle if ":" in line)
                parent = int(fields["PPid"])
                with open(f"/proc/{parent}/status") as handle:
                    parent_fields = dict(line.split(":", 1) for line in handle if ":" in line)
            except (OSError, KeyError, ValueError):
                continue
            if parent_fields["NSpid"].split()[-1] == "1":
                return parent
        time.sleep(0.005)
    raise AssertionError(f"no box init running {program}")


def test_a_stopped_box_init_is_an_internal_error_not_a_tle() -> None:
    # Fault injection (helper audit): the box's own init stopped (a debugger, a frozen cgroup,
    # SIGSTOP) cannot reap the program or report its end, and the wall limit passes. The
    # program ended in time (sleep 0.3 s, 1.5 s of wall allowed): the verdict must be the
    # sandbox's failure, which a judge retries, never the program's TLE.
    import threading

    import sandbox

    stopped: list[int] = []

    def stop_init() -> None:
        pid = _init_of("sleep", time.monotonic() + 10)
        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)

    stopper = threading.Thread(target=stop_init)
    stopper.start()
    try:
        r = sandbox.run(["/bin/sleep", "0.3"], {"cpu_time": 1, "wall_time": 1.5})
    finally:
        stopper.join()
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    assert stopped, "the init was never stopped"
    assert r.verdict is sandbox.Verdict.INTERNAL_ERROR, (r.verdict, r.message)
    assert "init was stopped" in r.message


def test_a_program_starved_of_cpu_by_the_host_is_an_internal_error_not_a_tle() -> None:
    # Fault audit: under a load of 6 on 2 cores (other boxes), correct programs got 0.1 s of
    # CPU per second and were judged TLE by the wall limit. Here 8 boxes per core spin (each
    # box is a cgroup of its own, weighed like the program's): the program gets a ninth of a
    # CPU, and 0.3 s of its work take more than its 1 s of wall. It was runnable all along, so
    # the wall time went to the host's load, not to the program.
    import sandbox

    work = ["/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]
    spin = ["/bin/sh", "-c", "while :; do :; done"]
    hogs = [sandbox.spawn(spin, {"cpu_time": 30, "wall_time": 30})
            for _ in range(8 * len(os.sched_getaffinity(0)))]  # fmt: skip
    try:
        time.sleep(0.3)
        r = sandbox.run(work, {"cpu_time": 5, "wall_time": 1})
    finally:
        for hog in hogs:
            hog.close()
    assert r.verdict is sandbox.Verdict.INTERNAL_ERROR, (r.verdict, r.message, r.cpu_time)
    assert "waiting for a CPU" in r.message
    # The same work on a quiet host ends in time, and a sleeper's wall time is its own.
    quiet = {"cpu_time": 5 * SCALE, "wall_time": 5 * SCALE}  # (an emulated guest is slow)
    assert sandbox.run(work, quiet).verdict is sandbox.Verdict.OK
    slept = sandbox.run(["/bin/sleep", "3"], {"cpu_time": 1, "wall_time": 1})
    assert slept.verdict is sandbox.Verdict.TIME_LIMIT and "wall time limit" in slept.message
    # Nor are processes of the program crowding each other: the box keeps the CPUs busy.
    crowd = "for i in 1 2 3 4 5 6 7 8; do (while :; do :; done) & done; wait"
    crowded = sandbox.run(["/bin/sh", "-c", crowd], {"cpu_time": 20, "wall_time": 1})
    assert crowded.verdict is sandbox.Verdict.TIME_LIMIT, (crowded.verdict, crowded.message)
