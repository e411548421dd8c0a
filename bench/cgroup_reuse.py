"""What reusing box cgroups saves: warm runs of /bin/true with SANDBOX_REUSE=0 (a cgroup made
and removed per run) against SANDBOX_REUSE=1 (sandbox/cgroups/reuse.py), in one process.

    python3 bench/cgroup_reuse.py [--runs 200] [--blocks 6] [--pause 0]

The two settings alternate in blocks (0, 1, 0, 1, ...) so that a noisy neighbour on this
shared machine hits both alike; the pool and the idle cgroups are drained at each switch and
a few unmeasured runs warm the next block up. Per setting, it prints:

- wall: the median of one sandbox.run call (ms);
- cpu (machine): busy jiffies of the whole machine (/proc/stat: everything but idle and
  iowait, kernel threads included) over a block, per run: what the service pays, and what
  every other process on the machine adds as noise (hence the blocks and medians);
- cpu (ours): this process (its threads: the run's and the pool's) with its zygote, and
  every kernel thread (kworkers offline removed memcgs), per run, from exact ns counters:
  less noise (the box helpers' own CPU is left out: the same in both settings);
- reused: how many runs got a reused cgroup (a back-to-back run often finds the last one's
  cgroup not settled yet: its kernel objects are freed an RCU grace period later).

--pause S sleeps S seconds between runs (outside the timing), as a judge between tests.
First, the cgroup part alone (--cycles N; no boxes): create + remove against claim + release.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sandbox
from sandbox import _pool, cgroups
from sandbox._spawn import zygote_pid
from sandbox.cgroups import reuse

TICK = os.sysconf("SC_CLK_TCK")


def machine_busy() -> int:
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # minus idle and iowait


def _run_ns(pid: int) -> int:
    """CPU time a task has run, in ns (schedstat: exact, where /proc/PID/stat has ticks)."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as handle:
            return int(handle.read().split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def kernel_threads_ns() -> int:
    total = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    ppid = handle.read().rsplit(b")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if ppid in (b"0", b"2") and name != "1":  # kthreadd and its children
                total += _run_ns(int(name))
    return total


def ours_ns() -> tuple[int, int]:
    """(this process and its zygote, kernel threads) in ns of CPU."""
    zygote = zygote_pid()
    return (time.process_time_ns() + (_run_ns(zygote) if zygote else 0), kernel_threads_ns())


def block(setting: str, runs: int, pause: float) -> tuple[list[float], float, float, float,
                                                           int]:
    os.environ["SANDBOX_REUSE"] = setting
    _pool.drain()
    for _ in range(5):  # warm up: the pool's boxes, the zygote, idle cgroups of this setting
        sandbox.run(["/bin/true"])
        time.sleep(max(pause, 0.05))
    _pool.settle()
    reused_before = reuse.stats["reused"]
    walls: list[float] = []
    busy0, (self0, kernel0) = machine_busy(), ours_ns()
    for _ in range(runs):
        start = time.perf_counter()
        result = sandbox.run(["/bin/true"])
        walls.append(time.perf_counter() - start)
        if not result.ok:
            raise SystemExit(f"/bin/true failed with SANDBOX_REUSE={setting}: {result.message}")
        if pause:
            time.sleep(pause)
    _pool.settle()  # the teardowns of this block's runs are this block's cost
    busy, (self1, kernel1) = machine_busy() - busy0, ours_ns()
    return (walls, busy / TICK / runs, (self1 - self0) / 1e9 / runs,
            (kernel1 - kernel0) / 1e9 / runs, reuse.stats["reused"] - reused_before)


def cycles(count: int) -> None:
    """The cgroup part alone, without boxes: create + remove against reissue + release of a
    quiet cgroup (thread CPU is this thread's; kernel threads are measured after a pause, so
    that the offlining of removed cgroups lands in its own part)."""
    chosen = cgroups.backend()
    tag = f"box-{os.getpid()}-bench"
    os.environ["SANDBOX_REUSE"] = "1"
    reuse.drain()
    reuse.release(chosen.create(tag, 64 << 20, 16))

    def fresh(i: int) -> None:
        chosen.create(f"{tag}{i}", 64 << 20, 16).remove()

    def reused(i: int) -> None:
        reuse.release(reuse.claim(chosen, f"{tag}{i}", 64 << 20, 16))

    for name, step in (("fresh  create+remove ", fresh), ("reused claim+release", reused)):
        time.sleep(0.5)
        kernel0, cpu0, wall0 = kernel_threads_ns(), time.thread_time_ns(), time.perf_counter()
        for i in range(count):
            step(i)
        wall, cpu = time.perf_counter() - wall0, time.thread_time_ns() - cpu0
        time.sleep(0.5)
        kernel = kernel_threads_ns() - kernel0
        print(f"{name}: wall {wall / count * 1e6:.0f} us, this thread's cpu "
              f"{cpu / count / 1e3:.0f} us, kernel threads {kernel / count / 1e3:.0f} us"
              " per cycle")
    reuse.drain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per block")
    parser.add_argument("--blocks", type=int, default=6, help="blocks per setting")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between runs")
    parser.add_argument("--cycles", type=int, default=500,
                        help="cgroup-only cycles per setting (0: skip that part)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root, like the sandbox")
    if args.cycles:
        cycles(args.cycles)
    walls: dict[str, list[float]] = {"0": [], "1": []}
    cpu: dict[str, list[list[float]]] = {"0": [[], [], []], "1": [[], [], []]}
    reused: dict[str, int] = {"0": 0, "1": 0}
    for _ in range(args.blocks):
        for setting in ("0", "1"):
            w, *per_run, r = block(setting, args.runs, args.pause)
            walls[setting] += w
            for into, value in zip(cpu[setting], per_run, strict=True):
                into.append(value)
            reused[setting] += r
    _pool.drain()
    total = args.runs * args.blocks
    print(f"{total} runs of /bin/true per setting, {args.blocks} blocks, pause {args.pause} s, "
          f"SANDBOX_POOL={os.environ.get('SANDBOX_POOL', '2')}, load {os.getloadavg()[0]:.1f}")
    for setting, name in (("0", "fresh  (SANDBOX_REUSE=0)"), ("1", "reused (SANDBOX_REUSE=1)")):
        machine, own, kernel = (statistics.median(values) * 1e3 for values in cpu[setting])
        print(f"{name}: wall {statistics.median(walls[setting]) * 1e3:.3f} ms/run;"
              f" cpu per run (ms): machine {machine:.3f}, this process + zygote {own:.3f},"
              f" kernel threads {kernel:.3f}; reused {reused[setting]}/{total}")


if __name__ == "__main__":
    main()
