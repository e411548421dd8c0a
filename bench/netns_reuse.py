"""What reusing clean network namespaces (issue 19, sandbox/_netns.py) saves per run.

    python3 bench/netns_reuse.py [--blocks 10] [--runs 100]

Warm runs of /bin/true (the pool on, as in the service; the zygote off, so that every
process of a run is our descendant, reaped by its parent, and its CPU adds up in our
children's times: a zygote's children are reaped by the kernel and their CPU is lost to
accounting), in blocks that alternate
SANDBOX_REUSE=0 and =1 in one process, so that a noisy neighbour on this shared machine
hits both alike. Each block starts from nothing prepared and no idle namespace, does a few
unmeasured runs, then `--runs` measured ones, and its window also takes in the teardown
that follows (the pool's and the kernel's cleanup_net workers), by waiting for the pool and
then a fixed tail. Per run, medians over the blocks of each mode:

  wall     the sandbox.run() call;
  tree     CPU of this process (the supervisor, the pool thread, the namespace checks and
           the namespaces it makes) and of every process it reaped (outers, which clone
           the box and make its namespaces; each box's init, payload and keeper);
  kthreads CPU of kernel threads (children of kthreadd: the kworkers that destroy
           namespaces), from their /proc/<pid>/stat; other users' share too, alike for
           both modes;
  total    tree + kthreads: what the machine spends on a run;
  machine  busy CPU of the whole machine from /proc/stat (all CPUs; on a shared machine
           mostly other users' work: a cross-check only).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sandbox
from sandbox import _netns, _pool

TICK = os.sysconf("SC_CLK_TCK")
TAIL = 0.3  # seconds of each window after the pool is idle: late namespace teardown


def machine_busy() -> float:
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICK


def kthreads_cpu() -> float:
    """Seconds on CPU of every kernel thread (schedstat: ns, where stat has ticks)."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                raw = handle.read()
            if raw[raw.rfind(b")") + 2:].split()[1] != b"2" and name != "2":
                continue  # not a child of kthreadd
            with open(f"/proc/{name}/schedstat", "rb") as handle:
                total += int(handle.read().split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def tree_cpu() -> float:
    """Seconds of CPU of this process and every descendant it (or they) reaped."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def block(reuse: str, runs: int) -> dict[str, float]:
    os.environ["SANDBOX_REUSE"] = reuse
    _pool.drain()
    _netns.drop_idle()
    for _ in range(5):
        sandbox.run(["/bin/true"], {"cpu_time": 1})
    _pool.settle()
    time.sleep(TAIL)
    walls = []
    made, dirty = _netns.stats["made"], _netns.stats["dirty"]
    start = (machine_busy(), kthreads_cpu(), tree_cpu(), time.monotonic())
    for _ in range(runs):
        begin = time.perf_counter()
        result = sandbox.run(["/bin/true"], {"cpu_time": 1})
        walls.append(time.perf_counter() - begin)
        if not result.ok:
            raise SystemExit(f"/bin/true failed: {result.message}")
    _pool.settle()
    time.sleep(TAIL)
    end = (machine_busy(), kthreads_cpu(), tree_cpu(), time.monotonic())
    per_run = [(b - a) * 1000 / runs for a, b in zip(start, end, strict=True)]
    return {"wall": statistics.median(walls) * 1000, "tree": per_run[2],
            "kthreads": per_run[1], "total": per_run[1] + per_run[2], "machine": per_run[0],
            "new_ns": (_netns.stats["made"] - made) / runs,
            "dirty": (_netns.stats["dirty"] - dirty) / runs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    os.environ["SANDBOX_ZYGOTE"] = "0"
    os.environ.pop("SANDBOX_POOL", None)
    found: dict[str, list[dict[str, float]]] = {"0": [], "1": []}
    for number in range(args.blocks):
        for reuse in ("0", "1") if number % 2 == 0 else ("1", "0"):
            found[reuse].append(block(reuse, args.runs))
    _pool.drain()
    print(f"{args.blocks} blocks x {args.runs} warm runs of /bin/true per mode, "
          f"{os.cpu_count()} CPUs; medians over blocks, ms per run")
    print(f"{'':16s}" + "".join(f"{key:>9s}" for key in found["0"][0]))
    for reuse, label in (("0", "SANDBOX_REUSE=0"), ("1", "SANDBOX_REUSE=1")):
        rows = found[reuse]
        med = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        print(f"{label:16s}" + "".join(f"{value:9.3f}" for value in med.values()))


if __name__ == "__main__":
    main()
