"""The box's root filesystem, as a list of operations the native helper performs in order.

Read-only binds of the host's system directories, a generated minimal /etc, a fresh /proc
with sensitive files masked, a minimal /dev, and size-capped tmpfs for everything writable.
Nothing of the host outside these paths is reachable from the box.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

from .errors import SandboxError

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_BINDS = ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime")
DEVICES = ("null", "zero", "full", "random", "urandom")
# Files of /proc that reveal or reach the host kernel: bound over with /dev/null.
PROC_MASKED_FILES = (
    "/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list", "/proc/sched_debug",
    "/proc/sysrq-trigger", "/proc/kallsyms", "/proc/kpagecount", "/proc/kpageflags",
    "/proc/kpagecgroup", "/proc/latency_stats", "/proc/vmallocinfo",
)
PROC_MASKED_DIRS = ("/proc/acpi", "/proc/scsi", "/proc/driver")
PROC_READONLY_DIRS = ("/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs")

PASSWD = "root:x:0:0:root:/box:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
HOSTS = "127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost\n"

Op = tuple[str, ...]


@functools.lru_cache(maxsize=32)
def system_ops() -> tuple[Op, ...]:
    """What every box gets; computed once per process (it stats the host)."""
    ops: list[Op] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            # Merged-/usr hosts: /bin -> usr/bin. A symlink costs less than a bind.
            ops.append(("symlink", os.readlink(path), path))
        elif os.path.isdir(path):
            ops.append(("ro", path, path))
    ops.append(("dir", "/etc"))
    ops.append(("file", "/etc/passwd", PASSWD))
    ops.append(("file", "/etc/group", GROUP))
    ops.append(("file", "/etc/hosts", HOSTS))
    ops.append(("file", "/etc/hostname", "box\n"))
    for path in ETC_BINDS:
        if os.path.exists(path):
            ops.append(("ro", path, path))
    ops.append(("dir", "/dev"))
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            ops.append(("dev", name))
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        ops.append(("symlink", target, f"/dev/{name}"))
    ops.append(("proc", "/proc"))
    ops.extend(("mask", path) for path in PROC_MASKED_FILES)
    ops.extend(("maskdir", path) for path in PROC_MASKED_DIRS)
    ops.extend(("rodir", path) for path in PROC_READONLY_DIRS)
    return tuple(ops)


def validate_binds(binds: Iterable[str]) -> tuple[str, ...]:
    """Extra read-only host directories, visible at the same path in the box."""
    out = []
    for path in binds:
        if not isinstance(path, str) or not path.startswith("/") or "\x00" in path or "\x01" in path:
            raise SandboxError(f"binds: expected an absolute host path, got {path!r}")
        norm = os.path.normpath(path)
        if norm in ("/", "/proc", "/dev", "/sys", "/box", "/tmp") or norm.startswith(
            ("/proc/", "/dev/", "/sys/", "/box/", "/tmp/")
        ):
            raise SandboxError(f"binds: {path} cannot be bound into the box")
        if not os.path.exists(norm):
            raise SandboxError(f"binds: {path} does not exist on this host")
        out.append(norm)
    return tuple(out)


def run_ops(binds: tuple[str, ...], disk: int) -> list[Op]:
    """The full operation list for one run."""
    ops = list(system_ops())
    ops.extend(("ro", path, path) for path in binds)
    tmpfs_opts = f"size={disk},nr_inodes={inode_cap(disk)},mode=1777"
    ops.append(("tmpfs", "/tmp", tmpfs_opts))
    ops.append(("tmpfs", "/dev/shm", tmpfs_opts))
    ops.append(("box", "/box"))
    return ops


def inode_cap(disk: int) -> int:
    """Inodes for a tmpfs of `disk` bytes: one per 4 KiB, at least 256, at most 64k."""
    return max(256, min(65536, disk // 4096))
