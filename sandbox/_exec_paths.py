"""Where a box's program may execute files from: the system's read-only trees, the
read-only binds, and the files given as executables. Nothing it writes itself.

Why: exec of a file whose first four bytes no binary format knows makes the kernel ask
for the module "binfmt-XXXX" (XXXX: bytes 2-3 of the file), and the kernel runs modprobe
as host root, in the host's cgroup, once per attempt, with the program blocked and
uncharged meanwhile. Stock Debian and Ubuntu kernels do this (seen on 6.1 and 6.12); up to
50 modprobes run at once, so one box could keep every core of the host busy for its
whole wall time. Landlock's execute right (Linux 5.13+, on by default in Debian's and
Ubuntu's security module list) confines exec to the paths here; the given executables are
owned by host root, mode 0555 (files.copy_in), so the program cannot rewrite them; memfds,
which Landlock does not see, are made non-executable by vm.memfd_noexec (Linux 6.3+) and
the seccomp filter refuses MFD_EXEC. The box's stdin memfd is mode 0444.

SANDBOX_EXEC_WRITTEN=1 turns this off for hosts whose users compile and run in one box
(`sh -c "cc x.c && ./a.out"`). On kernels without Landlock boxes run as before, and
`sandbox doctor` says so.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping

from . import files
from ._syscalls import landlock_abi

SYSTEM = ("/usr",)  # /bin, /sbin, /lib and /lib64 are links into it (rootfs.system_ops)


@functools.lru_cache(maxsize=1)
def supported() -> bool:
    return landlock_abi() >= 1


def enforced() -> bool:
    return os.environ.get("SANDBOX_EXEC_WRITTEN", "0") != "1" and supported()


def allowed(binds: Iterable[str], file_map: Mapping[str, object],
            executables: Iterable[str]) -> list[str]:
    """The in-box paths beneath which (or at which) exec is allowed."""
    given = ["/box/" + "/".join(files.box_relative(name, "executables"))
             for name in sorted(executables) if name in file_map]
    return [*SYSTEM, *binds, *given]
