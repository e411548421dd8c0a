"""What the default seccomp filter costs per run, and per syscall.

    python3 bench/seccomp_cost.py [--runs 200] [--syscall-runs 20]

1. Full cycle of sandbox.run(["/bin/true"]) with seccomp="default" and with seccomp=None,
   interleaved (A, B, A, B, ...) so a noisy neighbour on this shared machine hits both alike:
   median wall time of the whole call, and of the payload alone (Result.wall_time).
2. A syscall-heavy payload (one million getppid() calls from Python) under both, median of
   the box's CPU time: the filter runs on every syscall, so this bounds its per-call cost.
Prints medians in ms, the difference and the ratio; the compiled filter's size too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sandbox
from sandbox import seccomp

SYSCALL_LOOP = "import os\nfor _ in range(1_000_000): os.getppid()\n"
POLICIES = {"default": "default", "none": None}


def one_true(policy: str | None) -> tuple[float, float]:
    start = time.perf_counter()
    result = sandbox.run(["/bin/true"], {"cpu_time": 1}, seccomp=policy)
    elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"/bin/true failed under seccomp={policy}: {result.message}")
    return elapsed, result.wall_time


def one_loop(policy: str | None) -> float:
    result = sandbox.run(["/usr/bin/python3", "-c", SYSCALL_LOOP], {"cpu_time": 10},
                         seccomp=policy)
    if not result.ok:
        raise SystemExit(f"syscall loop failed under seccomp={policy}: {result.message}")
    return result.cpu_time


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--syscall-runs", type=int, default=20)
    args = parser.parse_args()

    start = time.perf_counter()
    program = seccomp.compile_policy(seccomp.Policy())
    print(f"default policy: {len(program) // 8} BPF instructions, compiled in "
          f"{(time.perf_counter() - start) * 1000:.1f} ms (once per process)")

    for policy in POLICIES.values():  # warm up: helper build, caches, slots
        one_true(policy)
    full: dict[str, list[float]] = {name: [] for name in POLICIES}
    payload: dict[str, list[float]] = {name: [] for name in POLICIES}
    for _ in range(args.runs):
        for name, policy in POLICIES.items():
            elapsed, wall = one_true(policy)
            full[name].append(elapsed)
            payload[name].append(wall)
    cpu: dict[str, list[float]] = {name: [] for name in POLICIES}
    for _ in range(args.syscall_runs):
        for name, policy in POLICIES.items():
            cpu[name].append(one_loop(policy))

    print(f"\n/bin/true, {args.runs} interleaved runs each (median ms):")
    print(f"{'':24}{'seccomp=default':>16}{'seccomp=None':>14}{'diff':>9}{'ratio':>8}")
    for label, data in (("sandbox.run, full cycle", full), ("payload wall_time", payload)):
        on, off = ms(data["default"]), ms(data["none"])
        print(f"{label:24}{on:16.3f}{off:14.3f}{on - off:9.3f}{on / off:8.3f}")
    on, off = ms(cpu["default"]), ms(cpu["none"])
    per_call_ns = (on - off) / 1000 * 1e9 / 1_000_000
    print(f"\n1M getppid() in Python, {args.syscall_runs} runs each (median CPU ms):")
    print(f"{'':24}{on:16.1f}{off:14.1f}{on - off:9.1f}{on / off:8.3f}"
          f"   (~{per_call_ns:.0f} ns per syscall)")


if __name__ == "__main__":
    main()
