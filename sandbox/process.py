"""A long-lived program in a box of its own, talking to its caller through pipes.

`spawn` builds the same box as `run` (namespaces, no network, seccomp, cgroup memory and pids
limits, a tmpfs /box) but returns at once: the caller writes to the program's stdin and reads
its stdout for as long as it likes, and ends it with `close`. Nothing watches the box's CPU
or wall clock meanwhile (there is no run to judge): the caller owns its deadlines, and the
kernel's RLIMIT_CPU (the `cpu_time` limit + 2 s, per process) is the backstop for a program
that spins with nobody asking. The box dies with the control pipe: if the caller's process
ends in any way (even SIGKILL), the kernel closes the pipe and the helper kills the box.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence

from . import seccomp as seccomp_policy
from ._box import Box
from ._interrupts import deferred
from ._plan import make_plan
from .limits import Limits

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Process:
    """A running box; `stdin` (ours to write), `stdout` and `stderr` (ours to read) are fds."""

    def __init__(self, box: Box, stdin: int, stdout: int) -> None:
        self._box = box
        self._owner = os.getpid()
        self.stdin = stdin
        self.stdout = stdout
        assert box.err_r >= 0
        self.stderr = box.err_r

    def pids(self) -> list[int]:
        """Host pids of the box's processes (the program and the box's own helpers); they
        join the box's cgroup as it starts up, so ask after the program has answered."""
        cgroup = self._box.cgroup
        return cgroup.procs() if cgroup is not None else []

    def cpu_time(self) -> float:
        """CPU seconds used by the box so far, over every process of it."""
        cgroup = self._box.cgroup
        return cgroup.cpu_ns() / 1e9 if cgroup is not None else 0.0

    def memory_peak(self) -> int:
        """The box's peak memory so far, in bytes (the cgroup's, not one process's RSS)."""
        cgroup = self._box.cgroup
        return cgroup.usage().memory_peak if cgroup is not None else 0

    def kill(self) -> None:
        """SIGKILL everything in the box now (stopped processes too); `close` still follows."""
        self._box.kill("caller")

    def close(self) -> None:
        """Kill the box, wait until its last process is gone, release every host resource.
        Idempotent; in a forked child it only drops the child's copies (see `forget`)."""
        if os.getpid() != self._owner:
            self.forget()
            return
        with deferred():
            for fd in (self.stdin, self.stdout):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self.stdin = self.stdout = self.stderr = -1
            if self._box.running or self._box.cgroup is not None:
                self._box.kill("caller")
                self._box.close()
                self._box.cgroup = None

    def forget(self) -> None:
        """In a forked child: close our copies of the fds without ending the parent's box."""
        for fd in (self.stdin, self.stdout):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.stdin = self.stdout = self.stderr = -1
        self._box.forget()
        self._box.cgroup = None


def spawn(
    cmd: Sequence[str],
    limits: Limits | Mapping[str, Any] | None = None,
    *,
    files: Mapping[str, bytes | str | os.PathLike[str]] | None = None,
    executables: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    binds: Iterable[str] = (),
    seccomp: seccomp_policy.Policy | str | None = "default",
    allow_syscalls: Iterable[str] = (),
) -> Process:
    """Start `cmd` in a fresh box and return while it runs. Bad arguments raise SandboxError."""
    from .supervisor import _new_box  # (the same cold box `run` makes without a pool)

    plan = make_plan(cmd, limits, files_=files, executables=executables, env=env, binds=binds,
                     seccomp=seccomp, allow_syscalls=allow_syscalls)
    box: Box | None = None
    ours: list[int] = []
    theirs: list[int] = []
    with deferred():
        try:
            box = _new_box(plan)
            to_box = os.pipe()
            from_box = os.pipe()
            ours[:] = [to_box[1], from_box[0]]
            theirs[:] = [to_box[0], from_box[1]]
            box.start(stdin=to_box[0], stdout=from_box[1])
        except BaseException:
            for fd in ours:
                os.close(fd)
            if box is not None:
                box.close()
            raise
        finally:
            # Only the box may hold its ends: the program must see EOF when we close ours,
            # and we must see EOF when it dies.
            for fd in theirs:
                os.close(fd)
    return Process(box, ours[0], ours[1])
