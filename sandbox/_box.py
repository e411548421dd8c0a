"""One box's life on the host side: create its cgroup and /box, spawn the helper, finish up.

`Box` owns every host resource of a run (uid slot, cgroup, tmpfs mount fd, pipes, the helper
process) and `close()` releases all of them on every path, interrupts included.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import select
import time

from . import cgroups, files, rootfs
from ._plan import Plan, config_bytes
from ._slots import host_uid, keeper_uid, slot
from ._spawn import parent_pid, spawn
from ._syscalls import detached_tmpfs
from ._verdict import Watched, judge
from .result import Result

_sequence = itertools.count()


def _high(fd: int) -> int:
    """Move fd above 9 so the helper's dup2 plan (0-5) never clobbers a source."""
    if fd >= 10:
        return fd
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def stdin_fd(stdin: object) -> int:
    """A sealed memfd with the input: seekable, and unchangeable from inside the box."""
    if stdin is None:
        return os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        if isinstance(stdin, (bytes, bytearray, memoryview)):
            view = memoryview(stdin)
            while view:
                view = view[os.write(fd, view):]
        else:
            with open(stdin, "rb") as src:  # type: ignore[call-overload]
                size = os.fstat(src.fileno()).st_size
                offset = 0
                while offset < size:
                    sent = os.sendfile(fd, src.fileno(), None, size - offset)
                    if sent == 0:
                        break
                    offset += sent
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW |
                    fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
        os.lseek(fd, 0, os.SEEK_SET)
        return fd
    except BaseException:
        os.close(fd)
        raise


class Box:
    def __init__(self, plan: Plan, backend: cgroups.Backend, helper: str, newroot: str) -> None:
        self.plan = plan
        self._backend = backend
        self._helper = helper
        self._newroot = newroot
        self._stack = contextlib.ExitStack()
        self._fds: list[int] = []
        self.cgroup: cgroups.BoxCgroup | None = None
        self.hpid = 0  # the outer, when it is our child (direct spawn); 0 with the zygote
        self.running = False
        self.pidfd = -1
        self.ctl_w = -1
        self.root_fd = -1
        self.out_r: int | None = None
        self.err_r = -1
        self.rep_r = -1
        self.started = 0.0
        self.watched = Watched()

    def _keep(self, fd: int) -> int:
        fd = _high(fd)
        self._fds.append(fd)
        return fd

    def _drop(self, fd: int) -> None:
        os.close(fd)
        self._fds.remove(fd)

    def start(self, stdin: int | None = None, stdout: int | None = None) -> None:
        """Spawn the box. `stdin`/`stdout` override the plan's (interactive pipes); the
        caller keeps ownership of those fds."""
        lim = self.plan.limits
        number = self._stack.enter_context(slot())
        uid = host_uid(number)
        name = f"box-{os.getpid()}-{next(_sequence)}"
        # +2: the box's init and the seccomp keeper live in the cgroup too, and are not the
        # program's to count.
        self.cgroup = self._backend.create(name, lim.memory, lim.pids + 2)
        self._stack.callback(self.cgroup.remove)
        mount_fd = self._keep(detached_tmpfs({
            "size": str(lim.disk), "nr_inodes": str(rootfs.inode_cap(lim.disk)),
            "mode": "0755", "uid": str(uid), "gid": str(uid)}))
        self.root_fd = self._keep(os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
                                          dir_fd=mount_fd))
        if self.plan.files:
            files.copy_in(self.root_fd, self.plan.files, self.plan.executables, uid, uid)
        in_fd = self._keep(os.dup(stdin) if stdin is not None else stdin_fd(self.plan.stdin))
        if stdout is None:
            self.out_r, out_w = (self._keep(fd) for fd in os.pipe())
        else:
            out_w = self._keep(os.dup(stdout))
        self.err_r, err_w = (self._keep(fd) for fd in os.pipe())
        self.rep_r, rep_w = (self._keep(fd) for fd in os.pipe())
        cfg_r, cfg_w = (self._keep(fd) for fd in os.pipe())
        # The control pipe: a byte, or EOF if we vanish, makes the outer SIGKILL the box.
        ctl_r, self.ctl_w = (self._keep(fd) for fd in os.pipe())
        config = config_bytes(self.plan, uid, keeper_uid(number), self.cgroup.join,
                              self._newroot, parent_pid())
        if len(config) > 60000:
            fcntl.fcntl(cfg_w, fcntl.F_SETPIPE_SZ, min(len(config) + 4096, 1 << 20))
        os.write(cfg_w, config)
        self._drop(cfg_w)
        self.started = time.monotonic()
        self.hpid, pidfd = spawn(self._helper, [in_fd, out_w, err_w, cfg_r, rep_w, mount_fd,
                                                ctl_r])
        self.pidfd = self._keep(pidfd)
        self.running = True
        for fd in (in_fd, out_w, err_w, cfg_r, rep_w, ctl_r):
            self._drop(fd)

    def kill(self, reason: str) -> None:
        """End the box: the outer SIGKILLs init, and the pid namespace takes every process
        with it, stopped ones included."""
        if self.watched.killed_for is None:
            self.watched.killed_for = reason
            self.watched.killed_at = time.monotonic()
            with contextlib.suppress(OSError):
                os.write(self.ctl_w, b"k")

    def _wait_gone(self) -> None:
        """Until the outer has exited, which it does only after init and with it every
        process of the box: nothing of a run outlives `run()`."""
        if self.running:
            while True:
                try:
                    if not os.read(self.rep_r, 65536):
                        break
                except InterruptedError:
                    continue
            self.running = False
        if self.pidfd >= 0:
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)
            while not poller.poll():
                pass
        while self.hpid:
            try:
                os.waitpid(self.hpid, 0)
            except ChildProcessError:
                pass
            except InterruptedError:
                continue
            self.hpid = 0

    def finish(self, grace: float = 0.0) -> Result:
        """After the watch (every pipe at EOF): measure, judge, copy out."""
        self.running = False
        self._wait_gone()
        assert self.cgroup is not None
        result = judge(self.plan, self.watched, self.cgroup.usage(), grace)
        for name in self.plan.copy_out:
            try:
                result.files[name] = files.copy_out(self.root_fd, name,
                                                    self.plan.limits.file_size)
            except files.CopyOutError as exc:
                result.message = f"{result.message}; {exc}" if result.message else str(exc)
        return result

    def close(self) -> None:
        try:
            # Our copies go first: closing the control pipe ends a box still running (an
            # interrupt, an exception), and the report pipe can only reach EOF once no
            # write end of ours is left open.
            waiting_on = (self.rep_r, self.pidfd)
            for fd in self._fds:
                if fd not in waiting_on:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._fds = [fd for fd in self._fds if fd in waiting_on]
            self._wait_gone()
            for fd in self._fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._fds.clear()
        finally:
            self._stack.close()
