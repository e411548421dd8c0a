"""Python's syntax check: the long-lived parser (issue 19) against a box per submission.

    python3 bench/python_check.py [--checks 200] [--rounds 5] [--source FILE]

Both sides go through ``worker.execution.compile_source`` with the real sandbox runner, as the
pipeline calls it, in the same process and run: JUDGE_PYTHON_PARSER=1 (the parser answers) or
0 (a box runs ``python3 -S -I -c CHECK``). The source is A+B (as the other benchmarks submit
it) unless --source names a file. Rounds alternate the two sides so both see the same machine
noise; the parser is started before the first round (its start is printed apart, it happens
once per worker process and again after 1000 checks).

Per side it prints medians of:

- wall: each check's wall time (the median over every check of every round);
- CPU, /proc/stat: per round, the machine's busy time (every process) over the round's
  checks, less what the machine was busy with while we slept for a second just before (the
  neighbours' share, scaled to the round's wall time); the median of the rounds. It misses
  nothing of ours, but on a shared machine the neighbours' load still shifts it;
- CPU, accounted: the same rounds again in a child process with SANDBOX_ZYGOTE=0, where every
  box's outer is the child's own child and is reaped by it, so RUSAGE_SELF + RUSAGE_CHILDREN
  hold the worker side and every process of every box (outer, init, keeper, the check); the
  parser's box is added by its cgroup's CPU counter (it is not reaped during the run). Free of
  the neighbours, but the box side pays an exec per outer that the zygote (the default) turns
  into a fork, and kernel work done in other threads (kworkers tearing cgroups down) is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker import languages, python_parser
from worker.execution import Program, compile_source, sandbox_runner

APLUSB = "a, b = map(int, input().split())\nprint(a + b)\n"
_TICK = os.sysconf("SC_CLK_TCK")
BACKGROUND_SAMPLE = 1.0  # seconds of sleep before each round, to see what others use


def busy_seconds() -> float:
    """The machine's busy CPU time so far (all cores): /proc/stat's first line less idle."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICK  # guest time is already in user


def accounted_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    parser = python_parser._state.parser
    return (own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
            + (parser.proc.cpu_time() if parser is not None else 0.0))


def one_round(
    source: str, parser: bool, checks: int
) -> tuple[list[float], float, float, float]:
    """(wall of each check, accounted CPU per check, /proc/stat busy per check less the
    neighbours', the neighbours' busy cores)."""
    os.environ["JUDGE_PYTHON_PARSER"] = "1" if parser else "0"
    lang = languages.get("python3")
    walls = []
    # The neighbours' share first: the machine's busy time while we only sleep.
    idle0, t0 = busy_seconds(), time.monotonic()
    time.sleep(BACKGROUND_SAMPLE)
    background = (busy_seconds() - idle0) / (time.monotonic() - t0)
    cpu0, busy0, t0 = accounted_seconds(), busy_seconds(), time.monotonic()
    for _ in range(checks):
        start = time.perf_counter()
        built, _ = compile_source(sandbox_runner, lang, source)
        walls.append(time.perf_counter() - start)
        assert isinstance(built, Program), "the source must pass the check"
    cpu = (accounted_seconds() - cpu0) / checks
    busy = (busy_seconds() - busy0 - background * (time.monotonic() - t0)) / checks
    return walls, cpu, busy, background


Sides = dict[str, dict[str, list[float]]]


def measure(source: str, checks: int, rounds: int) -> tuple[float, Sides]:
    """(the parser's start, per side: each check's wall, and per round CPU and busy time),
    the two sides alternating."""
    if checks * rounds > python_parser.MAX_CHECKS:
        python_parser.MAX_CHECKS = checks * rounds + 1  # one parser for the run
    lang = languages.get("python3")
    os.environ["JUDGE_PYTHON_PARSER"] = "1"
    start = time.perf_counter()
    compile_source(sandbox_runner, lang, source)
    started = time.perf_counter() - start
    assert python_parser.current_pids(), "the parser did not start"
    one_round(source, False, 10)  # warm: the zygote, the pool of boxes
    order = {"parser": True, "box": False}
    out: Sides = {name: {"wall": [], "cpu": [], "busy": [], "background": []} for name in order}
    for n in range(rounds):
        for name in list(order) if n % 2 == 0 else list(reversed(order)):
            walls, cpu, busy, background = one_round(source, order[name], checks)
            out[name]["wall"] += walls
            out[name]["cpu"].append(cpu)
            out[name]["busy"].append(busy)
            out[name]["background"].append(background)
    python_parser.shutdown()
    return started, out


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=200, help="checks per side per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--source", type=Path, help="a Python source that passes the check")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    source = args.source.read_text() if args.source else APLUSB
    if args.child:
        print(json.dumps(measure(source, args.checks, args.rounds)[1]))
        return 0
    started, shared = measure(source, args.checks, args.rounds)
    child = subprocess.run(
        [sys.executable, __file__, "--child", f"--checks={args.checks}",
         f"--rounds={args.rounds}", *([f"--source={args.source}"] if args.source else [])],
        env={**os.environ, "SANDBOX_ZYGOTE": "0"}, check=True, capture_output=True, text=True)
    exact: Sides = json.loads(child.stdout.splitlines()[-1])
    print(f"syntax check of a {len(source.encode())}-byte source, {args.rounds} rounds x "
          f"{args.checks} checks per side, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    background = statistics.median(shared["box"]["background"] + shared["parser"]["background"])
    print(f"neighbours' load while we slept: {background:.2f} cores busy of {os.cpu_count()} "
          "(/proc/stat-bg means little when the machine has no idle core left)")
    print(f"parser start (its first check, once per worker process): {started * 1e3:.1f} ms wall")
    print(f"{'':7} {'wall ms':>8} {'CPU ms /proc/stat-bg':>21} | with SANDBOX_ZYGOTE=0: "
          f"{'wall ms':>8} {'CPU ms accounted':>17}")
    for name in ("parser", "box"):
        a, b = shared[name], exact[name]
        print(f"{name:7} {_ms(a['wall']):>8} {_ms(a['busy']):>21} | {'':22}"
              f"{_ms(b['wall']):>8} {_ms(b['cpu']):>17}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
