"""The worker container's seccomp profile, written from this readable description.

    python3 docker/worker_seccomp.py          # rewrites docker/worker-seccomp.json
    python3 docker/worker_seccomp.py --check  # exit 1 if the JSON is not what this writes

Docker's own default profile allows what a container needs and refuses the rest with EPERM;
calls that only an administrator needs are allowed only when the container holds the matching
capability. `BASE` states the rules of the default built into Docker 20.10 (Debian 12's
docker.io, the engine tests/deploy/test_compose_engine.py runs), rule for rule. A profile given
with `seccomp=` replaces the engine's default entirely, so on a newer engine the worker keeps
this list: newer defaults also allow a few calls added to Linux since (fchmodat2, cachestat,
mseal ...) that Debian 12's glibc and toolchains in the image do not use.
The worker holds CAP_SYS_ADMIN (docker-compose.yml says why), and even then Docker's profile
refuses one call the sandbox cannot do without, so `ADDED` lists it; nothing else differs:

- pivot_root, under CAP_SYS_ADMIN: every box enters its own root with pivot_root(".", ".")
  (sandbox/_native/boxinit.c), never chroot, because a chroot leaves the old root reachable to
  a process that can mount or keeps a directory fd open, while pivot_root followed by a lazy
  unmount leaves no path back to the worker's file system. Docker's profile lists pivot_root
  under no capability at all, so without this rule `sandbox doctor` fails with
  "pivot_root: Operation not permitted" and no submission can be graded.

What the sandbox also uses is already in Docker's list under CAP_SYS_ADMIN (unshare, setns,
clone/clone3 with namespace flags, mount, umount2, fsopen/fsconfig/fsmount, move_mount,
sethostname) or allowed to everyone (seccomp, capset, close_range). Measured, not assumed: with
every process of two worker containers under `strace -f -c` from the host while they graded
AC, WA, TLE, MLE and CE and ran C, C++, Python, Java, JavaScript, Ruby, Perl and Bash twice
each, the 117 distinct calls made were all allowed by this profile but one: pkey_alloc, which
Node's V8 tries once per run and does without (the JavaScript runs were AC). So nothing else
is added. Each box still gets the sandbox's own, much stricter filter on top of this one.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("worker-seccomp.json")
EPERM, ENOSYS = 1, 38


@dataclass(frozen=True)
class Rule:
    """Syscalls allowed (or refused with `errno`) when every condition holds."""

    names: str  # whitespace-separated
    caps: tuple[str, ...] = ()  # only with these capabilities
    without_caps: tuple[str, ...] = ()  # only without these
    arches: tuple[str, ...] = ()  # only on these (Go's names: amd64, arm64, s390x ...)
    not_arches: tuple[str, ...] = ()
    min_kernel: str = ""
    args: tuple[tuple[int, int, str], ...] = ()  # (index, value, op); ops are ANDed
    errno: int = 0  # 0: allow
    why: str = field(default="", compare=False)

    def json(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"names": self.names.split()}
        if self.errno:
            rule.update(action="SCMP_ACT_ERRNO", errnoRet=self.errno)
        else:
            rule["action"] = "SCMP_ACT_ALLOW"
        if self.args:
            rule["args"] = [
                {"index": i, "value": v, "valueTwo": 0, "op": op} for i, v, op in self.args
            ]
        includes: dict[str, Any] = {}
        excludes: dict[str, Any] = {}
        if self.caps:
            includes["caps"] = list(self.caps)
        if self.arches:
            includes["arches"] = list(self.arches)
        if self.min_kernel:
            includes["minKernel"] = self.min_kernel
        if self.without_caps:
            excludes["caps"] = list(self.without_caps)
        if self.not_arches:
            excludes["arches"] = list(self.not_arches)
        if includes:
            rule["includes"] = includes
        if excludes:
            rule["excludes"] = excludes
        return rule


# Anyone may call these: files, memory, signals, time, sockets, IPC, scheduling hints, and the
# 32-bit variants of each on the architectures that have them.
EVERYONE = """
    _llseek _newselect accept accept4 access adjtimex alarm bind brk capget capset chdir chmod
    chown chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
    clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
    copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
    epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
    exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir
    fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock
    fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate
    ftruncate64 futex futex_time64 futex_waitv futimesat get_robust_list get_thread_area getcpu
    getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
    getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom
    getresgid getresgid32 getresuid getresuid32 getrlimit getrusage getsid getsockname
    getsockopt gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
    inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents
    io_pgetevents_time64 io_setup io_submit io_uring_enter io_uring_register io_uring_setup
    ioctl ioprio_get ioprio_set ipc kill landlock_add_rule landlock_create_ruleset
    landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr
    lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret
    mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr
    mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
    mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap nanosleep
    newfstatat open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 poll ppoll
    ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
    pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv
    recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat
    renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask
    rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
    rt_tgsigqueueinfo sched_get_priority_max sched_get_priority_min sched_getaffinity
    sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval
    sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
    sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
    semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto set_robust_list
    set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
    setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid
    setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid setsockopt setuid
    setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
    sigprocmask sigreturn socket socketcall socketpair splice stat stat64 statfs statfs64 statx
    symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
    timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
    timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times
    tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
    utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
"""

# personality(2) values a program may ask for: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE, both,
# and 0xffffffff (only asks for the current one).
PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
# clone(2) flags that make a namespace (NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET).
CLONE_NEW_ANY = 0x7E020000

BASE: tuple[Rule, ...] = (
    Rule(EVERYONE),
    Rule("ptrace", min_kernel="4.8", why="since 4.8 ptrace cannot be used to escape seccomp"),
    *(Rule("personality", args=((0, p, "SCMP_CMP_EQ"),)) for p in PERSONALITIES),
    Rule("sync_file_range2", arches=("ppc64le",)),
    Rule("arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
         arches=("arm", "arm64")),
    Rule("arch_prctl", arches=("amd64", "x32")),
    Rule("modify_ldt", arches=("amd64", "x32", "x86")),
    Rule("s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr", arches=("s390", "s390x")),
    Rule("open_by_handle_at", caps=("CAP_DAC_READ_SEARCH",)),
    Rule(
        """bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount
        mount_setattr move_mount name_to_handle_at open_tree perf_event_open quotactl
        quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare""",
        caps=("CAP_SYS_ADMIN",),
    ),
    # Without CAP_SYS_ADMIN: clone, but never with a namespace flag (s390 swaps the first two
    # arguments); clone3 says ENOSYS, since its flags sit in memory seccomp cannot read, and
    # libc then falls back to clone.
    Rule("clone", without_caps=("CAP_SYS_ADMIN",), not_arches=("s390", "s390x"),
         args=((0, CLONE_NEW_ANY, "SCMP_CMP_MASKED_EQ"),)),
    Rule("clone", without_caps=("CAP_SYS_ADMIN",), arches=("s390", "s390x"),
         args=((1, CLONE_NEW_ANY, "SCMP_CMP_MASKED_EQ"),)),
    Rule("clone3", without_caps=("CAP_SYS_ADMIN",), errno=ENOSYS),
    Rule("reboot", caps=("CAP_SYS_BOOT",)),
    Rule("chroot", caps=("CAP_SYS_CHROOT",)),
    Rule("delete_module init_module finit_module", caps=("CAP_SYS_MODULE",)),
    Rule("acct", caps=("CAP_SYS_PACCT",)),
    Rule("kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
         caps=("CAP_SYS_PTRACE",)),
    Rule("iopl ioperm", caps=("CAP_SYS_RAWIO",)),
    Rule("settimeofday stime clock_settime", caps=("CAP_SYS_TIME",)),
    Rule("vhangup", caps=("CAP_SYS_TTY_CONFIG",)),
    Rule("get_mempolicy mbind set_mempolicy", caps=("CAP_SYS_NICE",)),
    Rule("syslog", caps=("CAP_SYSLOG",)),
)

# What the worker needs beyond Docker's default (module docstring: why each one).
ADDED: tuple[Rule, ...] = (
    Rule("pivot_root", caps=("CAP_SYS_ADMIN",), why="each box enters its root by pivot_root"),
)

# The 32-bit ABIs a 64-bit kernel also runs; their calls are filtered by the same names.
ARCHES = {
    "SCMP_ARCH_X86_64": ("SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "SCMP_ARCH_AARCH64": ("SCMP_ARCH_ARM",),
    "SCMP_ARCH_MIPS64": ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"),
    "SCMP_ARCH_MIPS64N32": ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"),
    "SCMP_ARCH_MIPSEL64": ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"),
    "SCMP_ARCH_MIPSEL64N32": ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"),
    "SCMP_ARCH_S390X": ("SCMP_ARCH_S390",),
}


def profile() -> dict[str, Any]:
    """The profile Docker reads."""
    return {
        # Anything not allowed below fails with EPERM, as under Docker's default.
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": EPERM,
        "archMap": [{"architecture": a, "subArchitectures": list(s)} for a, s in ARCHES.items()],
        "syscalls": [rule.json() for rule in (*BASE, *ADDED)],
    }


def render() -> str:
    return json.dumps(profile(), indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if args.check:
        if not OUT.is_file() or OUT.read_text() != render():
            print(f"{OUT.name} is stale: run python3 docker/worker_seccomp.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
