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
- ``all + seccomp``: every namespace of a box and the filter;
- ``a box built per run``: what boxinit's init does for a fresh box without the supervisor's
  part: a mount namespace with the box's root built as sandbox/rootfs.py lays it out (about
  45 mount calls: read-only binds, devices, proc and its masks, scratch tmpfs, pivot_root),
  new pid, ipc, uts and cgroup namespaces, and the payload forked into a new user namespace
  with the filter;
- ``a box kept``: the same box built once, and per run only what must be fresh (the design
  sketched in issue 19): new tmpfs for /tmp, /dev/shm and /box, a new ipc namespace,
  ``ns_last_pid`` reset, and the payload in a new user namespace with the filter.

Then, from Python, ``subprocess.run(["/bin/true"])`` against a warm ``sandbox.run`` of the
same: the sandbox's whole cost per run, orchestration included.

For each: machine CPU per run (every core busy, from /proc/stat, so kernel threads doing the
teardown count) and wall time per run, the median of ``--rounds`` rounds, and the ratio to
the bare baseline measured in the same round. Needs root. The gap between the sandbox and
"a box kept" is what reusing the box between runs, and a leaner supervisor, could save.
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

from service_throughput import _machine_busy  # (bench/, this script's own directory)

import sandbox
from sandbox import seccomp

DRIVER = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sock_filter prog[8192];
static unsigned short nprog;
static char root[4096];

static void must(long rc, const char *what) {
    if (rc < 0) { perror(what); _exit(10); }
}
static const char *at(const char *path) {
    static char buf[8][4096];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s%s", root, path);
    return buf[i];
}
static void touch(const char *path) {
    int fd = open(at(path), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    must(fd, path);
    close(fd);
}
static void bind_ro(const char *src, const char *dst) {
    must(mount(src, at(dst), NULL, MS_BIND | MS_REC, NULL), dst);
    must(mount(NULL, at(dst), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL), dst);
}
static void scratch(const char *dst) {
    must(mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,nr_inodes=16384,mode=1777"), dst);
}
static int lastpid = -1;

/* The box's root as the sandbox builds it (sandbox/rootfs.py run_ops), in init. */
static void build(void) {
    must(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "private");
    must(mount("tmpfs", root, "tmpfs", MS_NOSUID, "size=1m,nr_inodes=4096,mode=0755"), "root");
    const char *dirs[] = {"/usr", "/etc", "/etc/alternatives", "/dev", "/proc", "/tmp", "/dev/shm", "/box"};
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) must(mkdir(at(dirs[i]), 0755), dirs[i]);
    bind_ro("/usr", "/usr");
    const char *links[][2] = {{"usr/bin", "/bin"}, {"usr/sbin", "/sbin"}, {"usr/lib", "/lib"}, {"usr/lib64", "/lib64"},
                              {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
                              {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}};
    for (unsigned i = 0; i < 8; i++) must(symlink(links[i][0], at(links[i][1])), links[i][1]);
    const char *files[] = {"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/hostname"};
    for (unsigned i = 0; i < 4; i++) {
        int fd = open(at(files[i]), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        must(fd, files[i]);
        must(write(fd, "root:x:0:0:root:/box:/bin/sh\n", 29), files[i]);
        close(fd);
    }
    touch("/etc/ld.so.cache"); bind_ro("/etc/ld.so.cache", "/etc/ld.so.cache");
    bind_ro("/etc/alternatives", "/etc/alternatives");
    touch("/etc/localtime"); bind_ro("/etc/localtime", "/etc/localtime");
    const char *devs[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    for (unsigned i = 0; i < 5; i++) { touch(devs[i]); must(mount(devs[i], at(devs[i]), NULL, MS_BIND, NULL), devs[i]); }
    must(mount("proc", at("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "proc");
    lastpid = open(at("/proc/sys/kernel/ns_last_pid"), O_WRONLY | O_CLOEXEC);
    const char *masks[] = {"/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list", "/proc/sched_debug",
                           "/proc/sysrq-trigger", "/proc/kallsyms", "/proc/kpagecount", "/proc/kpageflags",
                           "/proc/kpagecgroup", "/proc/latency_stats", "/proc/vmallocinfo"};
    for (unsigned i = 0; i < 12; i++)
        if (access(at(masks[i]), F_OK) == 0) must(mount("/dev/null", at(masks[i]), NULL, MS_BIND, NULL), masks[i]);
    const char *maskdirs[] = {"/proc/acpi", "/proc/scsi", "/proc/driver"};
    for (unsigned i = 0; i < 3; i++)
        if (access(at(maskdirs[i]), F_OK) == 0)
            must(mount("tmpfs", at(maskdirs[i]), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,nr_inodes=1,mode=0555"), maskdirs[i]);
    const char *rodirs[] = {"/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs"};
    for (unsigned i = 0; i < 4; i++)
        if (access(at(rodirs[i]), F_OK) == 0) {
            must(mount(at(rodirs[i]), at(rodirs[i]), NULL, MS_BIND | MS_REC, NULL), rodirs[i]);
            must(mount(NULL, at(rodirs[i]), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL), rodirs[i]);
        }
    scratch(at("/tmp")); scratch(at("/dev/shm")); scratch(at("/box"));
    must(mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL), "root ro");
    must(chdir(root), "chdir");
    must(syscall(SYS_pivot_root, ".", "."), "pivot");
    must(umount2(".", MNT_DETACH), "detach");
    must(chdir("/"), "chdir /");
}

/* In a child: the filter, if any, then exec /bin/true. */
static int run_true(void) {
    if (nprog) {
        struct sock_fprog p = {nprog, prog};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) < 0)
            return 4;
    }
    char *argv[] = {"/bin/true", NULL};
    execv(argv[0], argv);
    return 5;
}

/* One run in a box: the payload in a new user namespace. */
static int payload(void) {
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) return -1;
    if (pid == 0) _exit(run_true());
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return -1;
    return 0;
}

/* Between runs in a kept box: fresh /tmp, /dev/shm and /box, a new ipc namespace, pids from 2. */
static void reset(void) {
    const char *s[] = {"/tmp", "/dev/shm", "/box"};
    for (int i = 0; i < 3; i++) { must(umount2(s[i], MNT_DETACH), s[i]); scratch(s[i]); }
    must(unshare(CLONE_NEWIPC), "ipc");
    if (lastpid >= 0) must(pwrite(lastpid, "1", 1, 0), "ns_last_pid");
}

#define BOX_NS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* Each child sets up its part and execs /bin/true; the driver waits for each.
 * argv: RUNS ns CLONE_FLAGS [FILTER] | RUNS fresh|reused ROOT_DIR [FILTER] */
int main(int argc, char **argv) {
    int runs = atoi(argv[1]);
    const char *mode = argv[2];
    if (argc > 4) {
        FILE *f = fopen(argv[4], "rb");
        if (!f) return 2;
        nprog = (unsigned short)fread(prog, sizeof prog[0], 8192, f);
        fclose(f);
    }
    if (!strcmp(mode, "ns")) {
        long flags = strtol(argv[3], NULL, 0);
        for (int i = 0; i < runs; i++) {
            pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
            if (pid < 0) return 3;
            if (pid == 0) _exit(run_true());
            int st;
            if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return 6;
        }
        return 0;
    }
    snprintf(root, sizeof root, "%s", argv[3]);
    if (!strcmp(mode, "fresh")) {
        for (int i = 0; i < runs; i++) {
            pid_t pid = (pid_t)syscall(SYS_clone, BOX_NS | SIGCHLD, 0, 0, 0, 0);
            if (pid == 0) { build(); _exit(payload() < 0 ? 6 : 0); }
            int st;
            if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return 6;
        }
        return 0;
    }
    if (strcmp(mode, "reused")) return 1;
    int go[2], done[2];
    if (pipe(go) < 0 || pipe(done) < 0) return 7;
    pid_t pid = (pid_t)syscall(SYS_clone, BOX_NS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        close(go[1]); close(done[0]);
        build();
        char b;
        while (read(go[0], &b, 1) == 1) {
            reset();
            b = payload() < 0 ? 'x' : 'k';
            if (write(done[1], &b, 1) != 1) _exit(8);
        }
        _exit(0);
    }
    close(go[0]); close(done[1]);
    for (int i = 0; i < runs; i++) {
        char b = 'g';
        if (write(go[1], &b, 1) != 1 || read(done[0], &b, 1) != 1 || b != 'k') return 9;
    }
    close(go[1]);
    int st;
    waitpid(pid, &st, 0);
    return 0;
}
"""

NEWUSER, NEWNET = 0x10000000, 0x40000000
BOX_NS = 0x20000 | 0x20000000 | 0x4000000 | 0x8000000 | 0x02000000  # mnt pid uts ipc cgroup


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

        box_root = Path(tmp, "root")
        box_root.mkdir()

        def native(flags: int, with_filter: bool, mode: str = "ns") -> Callable[[], None]:
            arg = hex(flags) if mode == "ns" else str(box_root)
            argv = [str(driver), str(args.runs), mode, arg] + ([str(bpf)] if with_filter else [])

            def work() -> None:
                subprocess.run(argv, check=True)

            return work

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
            ("a box built per run (root, ns, seccomp)", native(0, True, "fresh")),
            ("a box kept (fresh scratch, ipc, user ns)", native(0, True, "reused")),
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
