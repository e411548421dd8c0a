"""The kernel's floor for one isolated run: what each part of a box costs a bare fork + exec of
/bin/true, measured in C with nothing else around it, beside the sandbox's own warm run.

    python3 bench/isolation_floor.py [--runs 1000] [--rounds 5]

Compiles a small C driver (its source is below) with the system's gcc into a temporary
directory. Each variant forks (clone) ``--runs`` children back to back, each of which sets up
its part and execs /bin/true; the driver waits for each. Variants, each adding to a bare
fork + exec:

- ``seccomp``: the judge's default filter (sandbox.seccomp), installed before the exec, as
  every box does;
- ``user ns``: a new user namespace;
- ``+ pid mnt ipc uts cgroup ns``: the namespaces a box gets new per run besides the network;
- ``+ net ns``: a new network namespace too (the sandbox lends a reused one instead);
- ``all + seccomp``: every namespace of a box and the filter.

Then, from Python, ``subprocess.run(["/bin/true"])`` against a warm ``sandbox.run`` of the
same: the sandbox's whole cost per run, orchestration included.

For each: machine CPU per run (every core busy, from /proc/stat, so kernel threads doing the
teardown count) and wall time per run, the median of ``--rounds`` rounds, and the ratio to
the bare baseline measured in the same round. Needs root. The gap between the sandbox and
the "all + seccomp" floor is what reusing more of a box could at most save.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sandbox
from sandbox import seccomp

DRIVER = r"""
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sock_filter prog[8192];
static unsigned short nprog;

/* argv: RUNS CLONE_FLAGS [FILTER_FILE]; prints nothing, exits 0 when every child did. */
int main(int argc, char **argv) {
    int runs = atoi(argv[1]);
    long flags = strtol(argv[2], NULL, 0);
    if (argc > 3) {
        FILE *f = fopen(argv[3], "rb");
        if (!f) return 2;
        nprog = (unsigned short)fread(prog, sizeof prog[0], 8192, f);
        fclose(f);
    }
    char *true_argv[] = {"/bin/true", NULL};
    for (int i = 0; i < runs; i++) {
        pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
        if (pid < 0) return 3;
        if (pid == 0) {
            if (nprog) {
                struct sock_fprog p = {nprog, prog};
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) < 0)
                    _exit(4);
            }
            execv(true_argv[0], true_argv);
            _exit(5);
        }
        int st;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return 6;
    }
    return 0;
}
"""

NEWUSER, NEWNET = 0x10000000, 0x40000000
BOX_NS = 0x20000 | 0x20000000 | 0x4000000 | 0x8000000 | 0x02000000  # mnt pid uts ipc cgroup


def _machine_busy() -> float:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _timed(work: Callable[[], None], runs: int) -> tuple[float, float]:
    """(machine CPU ms, wall ms) per run of ``work`` doing ``runs`` runs."""
    busy, start = _machine_busy(), time.perf_counter()
    work()
    wall, cpu = time.perf_counter() - start, _machine_busy() - busy
    return cpu / runs * 1000, wall / runs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="children per variant per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (namespaces, and the sandbox)")
    gcc = shutil.which("gcc")
    if gcc is None:
        parser.error("needs gcc to build the driver")

    with tempfile.TemporaryDirectory(prefix="isolation-floor-") as tmp:
        src, driver, bpf = Path(tmp, "floor.c"), Path(tmp, "floor"), Path(tmp, "default.bpf")
        src.write_text(DRIVER)
        subprocess.run([gcc, "-O2", "-o", str(driver), str(src)], check=True)
        bpf.write_bytes(seccomp.compile_policy(seccomp.Policy()))

        def native(flags: int, with_filter: bool) -> Callable[[], None]:
            argv = [str(driver), str(args.runs), hex(flags)] + ([str(bpf)] if with_filter else [])
            return lambda: subprocess.run(argv, check=True)

        limits = sandbox.Limits(cpu_time=1)

        def boxed() -> None:
            for _ in range(args.runs):
                if not sandbox.run(["/bin/true"], limits).ok:
                    raise SystemExit("sandbox.run(/bin/true) failed")

        def bare_python() -> None:
            for _ in range(args.runs):
                subprocess.run(["/bin/true"], check=True)

        variants: list[tuple[str, Callable[[], None]]] = [
            ("fork + exec (baseline)", native(0, False)),
            ("seccomp", native(0, True)),
            ("user ns", native(NEWUSER, False)),
            ("user ns + pid mnt ipc uts cgroup ns", native(NEWUSER | BOX_NS, False)),
            ("  + net ns", native(NEWUSER | BOX_NS | NEWNET, False)),
            ("all of a box's ns (net lent) + seccomp", native(NEWUSER | BOX_NS, True)),
            ("python: subprocess.run (baseline)", bare_python),
            ("python: warm sandbox.run", boxed),
        ]
        boxed()  # warm: the helper built, boxes prepared, the network namespace made
        results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in variants}
        for _ in range(args.rounds):
            for name, work in variants:  # interleaved: noise hits every variant alike
                results[name].append(_timed(work, args.runs))

    print(f"/bin/true, {args.runs} runs x {args.rounds} rounds, {os.cpu_count()} CPUs; "
          "medians per run")
    print(f"  {'':<42} {'machine CPU':>12} {'ratio':>6} {'wall':>9} {'ratio':>6}")
    for name, _ in variants:
        base = "python: subprocess.run (baseline)" if name.startswith("python") else (
            "fork + exec (baseline)")
        cpu = statistics.median(c for c, _ in results[name])
        wall = statistics.median(w for _, w in results[name])
        base_cpu = statistics.median(c for c, _ in results[base])
        base_wall = statistics.median(w for _, w in results[base])
        print(f"  {name:<42} {cpu:>9.3f} ms {cpu / base_cpu:>6.2f} {wall:>6.3f} ms "
              f"{wall / base_wall:>6.2f}")


if __name__ == "__main__":
    main()
