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

from . import _reuse, cgroups, files, rootfs
from ._plan import Plan, config_bytes, run_bytes
from ._slots import host_uid, keeper_uid, slot
from ._spawn import Pending, parent_pid, spawn, spawn_later
from ._syscalls import detached_tmpfs
from ._verdict import Watched, judge
from .cgroups import reuse
from .result import Result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import _netns

_sequence = itertools.count()
#: The share of a run's wall time a box process may spend runnable but waiting for a CPU
#: before a wall-limit kill is the host's fault (an internal error), not the program's TLE.
STARVED_SHARE = 0.5


def _high(fd: int) -> int:
    """Move fd above 9 so the helper's dup2 plan (0-5) never clobbers a source."""
    if fd >= 10:
        return fd
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as handle:
            return {k: v.strip() for k, _, v in (line.partition(":") for line in handle)}
    except OSError:
        return {}


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
        # Readable by the box (a reopen of /dev/stdin), never executable: a memfd is a
        # file Landlock cannot confine (see _exec_paths).
        os.fchmod(fd, 0o444)
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
        self._go_sock = -1  # a prepared box's end of its "go" socket
        self._pending: Pending | None = None  # the zygote's reply, read when needed
        self._uid = 0
        # A prepared box's stdin (/dev/null) and (read, write) ends of stdout/stderr pipes.
        self._spare: tuple[int, tuple[int, int], tuple[int, int]] | None = None
        self.go_bytes = b""  # the run's records, when the pool has encoded them already
        self._gone = False  # the outer has exited: no process of the box is left anywhere

    def _keep(self, fd: int) -> int:
        fd = _high(fd)
        self._fds.append(fd)
        return fd

    def _drop(self, fd: int) -> None:
        os.close(fd)
        self._fds.remove(fd)

    def _claim(self) -> tuple[int, int]:
        """The box's uid slot and its cgroup (limits of the plan at hand)."""
        lim = self.plan.limits
        number = self._stack.enter_context(slot())
        name = f"box-{os.getpid()}-{next(_sequence)}"
        # +2: the box's init and the seccomp keeper live in the cgroup too, and are not the
        # program's to count.
        self.cgroup = reuse.claim(self._backend, name, lim.memory, lim.pids + 2)
        self._stack.callback(reuse.release, self.cgroup)
        return number, host_uid(number)

    def _make_box_dir(self, uid: int) -> int:
        """The box's empty /box: a detached tmpfs (its mount fd) that we keep a handle on
        to put files in and copy results out."""
        lim = self.plan.limits
        mount_fd = self._keep(detached_tmpfs({
            "size": str(lim.disk), "nr_inodes": str(rootfs.inode_cap(lim.disk)),
            "mode": "0755", "uid": str(uid), "gid": str(uid)}))
        self.root_fd = self._keep(os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
                                          dir_fd=mount_fd))
        return mount_fd

    def _open_run(self, uid: int, stdin: int | None,
                  stdout: int | None) -> tuple[int, int, int]:
        """The run's files in /box, and its stdio: (stdin, stdout, stderr). A prepared box
        made /dev/null and the output pipes ahead (`_spare`)."""
        if self.plan.files:
            files.copy_in(self.root_fd, self.plan.files, self.plan.executables, uid, uid)
        spare, self._spare = self._spare, None
        if stdin is not None:
            in_fd = self._keep(os.dup(stdin))
        elif self.plan.stdin is None and spare:
            in_fd = spare[0]
        else:
            in_fd = self._keep(stdin_fd(self.plan.stdin))
        if spare and in_fd != spare[0]:
            self._drop(spare[0])
        out_pipe = spare[1] if spare else tuple(self._keep(fd) for fd in os.pipe())
        if stdout is None:
            self.out_r, out_w = out_pipe
        else:
            out_w = self._keep(os.dup(stdout))
            for fd in out_pipe:
                self._drop(fd)
        self.err_r, err_w = spare[2] if spare else (self._keep(fd) for fd in os.pipe())
        return in_fd, out_w, err_w

    def _spawn(self, number: int, uid: int, first_fds: tuple[int, int, int], mount_fd: int,
               prepared: bool) -> None:
        """Start the outer with the box's config; fds 0-2 and 5 are the run's, or
        placeholders (fd 0 the "go" socket) for a prepared box."""
        assert self.cgroup is not None
        self.rep_r, rep_w = (self._keep(fd) for fd in os.pipe())
        cfg_r, cfg_w = (self._keep(fd) for fd in os.pipe())
        # The control pipe: a byte, or EOF if we vanish, makes the outer SIGKILL the box.
        ctl_r, self.ctl_w = (self._keep(fd) for fd in os.pipe())
        net = self._lend_net()
        config = config_bytes(self.plan, uid, keeper_uid(number), self.cgroup.join,
                              self._newroot, parent_pid(), prepared,
                              netfd=7 if net is not None else -1)
        if len(config) > 60000:
            fcntl.fcntl(cfg_w, fcntl.F_SETPIPE_SZ, min(len(config) + 4096, 1 << 20))
        os.write(cfg_w, config)
        self._drop(cfg_w)
        self.started = time.monotonic()
        fds = [*first_fds, cfg_r, rep_w, mount_fd, ctl_r, *([net.fd] if net else [])]
        self._pending = spawn_later(self._helper, fds) if prepared else None
        if self._pending is None:
            self.hpid, pidfd = spawn(self._helper, fds)
            self.pidfd = self._keep(pidfd)
        for fd in (cfg_r, rep_w, ctl_r):
            self._drop(fd)

    def _lend_net(self) -> _netns.Netns | None:
        """A network namespace lent to this box until it is gone (None: the outer makes
        one); see `_reuse.for_this_run`."""
        if not _reuse.for_this_run():
            return None
        from . import _netns

        net = _netns.take()
        if net is not None:
            self._stack.callback(lambda: _netns.give_back(net, self._gone))
        return net

    def start(self, stdin: int | None = None, stdout: int | None = None) -> None:
        """Spawn the box, or hand the run to a prepared one. `stdin`/`stdout` override the
        plan's (interactive pipes); the caller keeps ownership of those fds."""
        if self._go_sock >= 0:
            self._go(stdin, stdout)
            return
        number, uid = self._claim()
        mount_fd = self._make_box_dir(uid)
        in_fd, out_w, err_w = self._open_run(uid, stdin, stdout)
        self._spawn(number, uid, (in_fd, out_w, err_w), mount_fd, prepared=False)
        self.running = True
        for fd in (in_fd, out_w, err_w):
            self._drop(fd)

    # ----- warm boxes (see _pool) -----

    def prepare(self) -> None:
        """Build the box ahead of its run: namespaces, cgroup, root filesystem, the payload
        process with its seccomp filter, all waiting for `start`."""
        import socket  # (warm boxes only: a one-shot run never needs it)

        number, uid = self._claim()
        self._uid = uid
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._go_sock = self._keep(ours.detach())
        theirs_fd = self._keep(theirs.detach())
        null = self._keep(os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC))
        mount_fd = self._make_box_dir(uid)
        self._spawn(number, uid, (theirs_fd, null, null), mount_fd, prepared=True)
        for fd in (theirs_fd, mount_fd):
            self._drop(fd)
        # The run's most likely stdio, made now: stdin from /dev/null, two output pipes.
        out_pipe = tuple(self._keep(fd) for fd in os.pipe())
        err_pipe = tuple(self._keep(fd) for fd in os.pipe())
        self._spare = (null, (out_pipe[0], out_pipe[1]), (err_pipe[0], err_pipe[1]))

    def wait_ready(self, timeout: float) -> bool:
        """Whether the prepared box reported "ready" (False: it failed or took too long,
        and must be closed)."""
        return self._wait_report(b"ready\n", timeout)

    def fit(self, plan: Plan) -> bool:
        """Give a prepared box `plan`'s cgroup limits (False: the kernel refused, e.g. a
        memory limit below what the waiting box already uses; the run then goes cold)."""
        assert self.cgroup is not None
        try:
            self.cgroup.set_limits(plan.limits.memory, plan.limits.pids + 2)
        except OSError:
            return False
        self.plan = plan
        return True

    def still_prepared(self) -> bool:
        """Whether a ready box is still waiting: not killed from outside since, its
        payload not gone (init would have reported that)."""
        poller = select.poll()
        poller.register(self.rep_r, select.POLLIN)
        events = poller.poll(0)
        if events and events[0][1] & select.POLLIN:
            self.watched.report += os.read(self.rep_r, 65536)
        report = self.watched.report
        gone = bool(events) and not (events[0][1] & select.POLLIN)  # HUP or ERR alone
        return not gone and not any(word in report for word in (b"\nexit ", b"\nlost ",
                                                                 b"\nerror "))

    def _wait_report(self, marker: bytes, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        poller = select.poll()
        poller.register(self.rep_r, select.POLLIN)
        report = self.watched.report
        while marker not in report:
            if b"error " in report:
                return False
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                return False
            chunk = os.read(self.rep_r, 65536)
            if not chunk:
                return False
            report += chunk
        return True

    def _go(self, stdin: int | None, stdout: int | None) -> None:
        import socket

        assert self.cgroup is not None
        blob = self.go_bytes or run_bytes(self.plan)
        in_fd, out_w, err_w = self._open_run(self._uid, stdin, stdout)
        # The payload reads the run straight from us; the clocks start here (the same
        # CLOCK_MONOTONIC and CPU counter init reads), so preparing never counts.
        cpu_base = self.cgroup.cpu_ns()
        self.started = time.monotonic()
        self.watched.report += b"cpu_base %d\nstart %d\n" % (cpu_base, time.monotonic_ns())
        self.running = True
        # Family and type given: a bare fileno would make Python ask the kernel for them.
        go = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, 0, fileno=self._go_sock)
        try:
            socket.send_fds(go, [blob], [in_fd, out_w, err_w])
        except OSError as exc:
            # Its payload died before the run (killed from outside): an internal error.
            self.watched.report += b"error prepared box lost: %s\n" % str(exc).encode()
            self.kill("lost")
        finally:
            go.detach()  # the fd stays ours to close with the others
        for fd in (in_fd, out_w, err_w, self._go_sock):
            self._drop(fd)
        self._go_sock = -1

    def kill(self, reason: str) -> None:
        """End the box: the outer SIGKILLs init, and the pid namespace takes every process
        with it, stopped ones included."""
        if self.watched.killed_for is None:
            self.watched.killed_for = reason
            self.watched.killed_at = time.monotonic()
            with contextlib.suppress(OSError):
                os.write(self.ctl_w, b"k")

    def _resolve_pending(self) -> None:
        """Read the zygote's reply (the outer's pidfd) if a prepared box has not yet."""
        if self._pending is not None:
            pidfd, self._pending = self._pending.pidfd(), None
            if pidfd >= 0:
                self.pidfd = self._keep(pidfd)

    def init_stopped(self) -> bool:
        """Whether the box's init is stopped (SIGSTOP, a debugger, a frozen cgroup): then
        it can neither reap the program nor report, and a limit that passes meanwhile says
        nothing of the program. The program cannot do it: nothing in the box may signal
        its init (another user namespace's, and pid 1 of its own)."""
        report = b"\n" + self.watched.report
        if b"\ninit " not in report:
            return False
        pid = report.split(b"\ninit ", 1)[1].split(b"\n", 1)[0]
        try:
            with open(f"/proc/{int(pid)}/stat", "rb") as handle:
                stat = handle.read()
        except (OSError, ValueError):
            return False
        # "pid (comm) S ...": the state follows the last ")" (comm may hold any bytes).
        return stat[stat.rfind(b")") + 2:][:1] in (b"T", b"t")

    def starved(self, now: float) -> bool:
        """Whether the host starved the box: one of its processes spent most of the run so
        far runnable but waiting for a CPU (its ``run_delay``) while the whole box got less
        than half a CPU. The host's load, not the program, then ate its wall time. A program
        that waits on its own (sleep, a read) is not runnable, and one whose processes only
        crowd each other (a fork bomb) keeps the CPUs busy: neither counts."""
        if self.cgroup is None:
            return False
        elapsed = now - (self.watched.start or self.started)
        used = (self.cgroup.cpu_ns() - (self.watched.cpu_base or self.cgroup.cpu_floor)) / 1e9
        if elapsed <= 0 or used >= STARVED_SHARE * elapsed:
            return False
        for pid in self.cgroup.procs():
            try:
                with open(f"/proc/{pid}/schedstat", "rb") as handle:
                    waited = int(handle.read().split()[1]) / 1e9
            except (OSError, ValueError, IndexError):
                continue
            if waited > STARVED_SHARE * elapsed:
                return True
        return False

    def program_gone(self) -> bool:
        """Whether init has reported the run's end, which it does only after reaping every
        other process of the box ("exit" is its last line)."""
        report = self.watched.report
        if not report.endswith(b"\n"):
            return False
        last = report[report.rfind(b"\n", 0, len(report) - 1) + 1:]
        return last.startswith(b"exit ")

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
        self._resolve_pending()
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
        self._gone = True

    def finish(self, grace: float = 0.0) -> Result:
        """After the watch (every pipe at EOF): measure, judge, copy out."""
        self.running = False
        if not self.program_gone():
            self._wait_gone()
        assert self.cgroup is not None
        result = judge(self.plan, self.watched, self.cgroup.usage(), grace)
        for name in self.plan.copy_out:
            try:
                if name.endswith("/"):
                    result.files.update(files.copy_out_tree(self.root_fd, name,
                                                            self.plan.limits.file_size))
                else:
                    result.files[name] = files.copy_out(self.root_fd, name,
                                                        self.plan.limits.file_size)
            except files.CopyOutError as exc:
                result.message = f"{result.message}; {exc}" if result.message else str(exc)
        return result

    def helper_pids(self, root_only: bool) -> set[int]:
        """Host pids of this box's processes (cgroup members and the outer, init's parent);
        with `root_only`, only those running as host root (the helper's, never a program's)."""
        if self.cgroup is None:
            return set()
        found: set[int] = set()
        for pid in self.cgroup.procs():
            status = _status(pid)
            if not status:
                continue
            if not root_only or status.get("Uid", "").split()[:1] == ["0"]:
                found.add(pid)
            parent = int(status.get("PPid", "0"))
            if parent and _status(parent).get("Name", "").startswith("boxinit"):
                found.add(parent)  # init's parent: the outer, host root
        return found

    def forget(self) -> None:
        """In a forked child: drop our copies of a parent's box without ending it."""
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
        if self._pending is not None:
            self._pending.forget()
            self._pending = None
        self._stack.pop_all()

    def detach(self) -> None:
        """Close all but what waiting for the outer needs (the report pipe, which init and
        the outer may still write, and the outer's pidfd). After `finish` saw the program
        gone, `reap` then finishes the teardown without holding the run's result back."""
        keep = (self.rep_r, self.pidfd)
        for fd in self._fds:
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fds = [fd for fd in self._fds if fd in keep]

    def reap(self, block: bool) -> bool:
        """Release the box's host resources once its outer has exited (True when done)."""
        self._resolve_pending()
        if not block and self.pidfd >= 0 and not select.select([self.pidfd], [], [], 0)[0]:
            return False
        if not block and self.hpid:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(self.hpid, os.WNOHANG)[0] == 0:
                    return False
            self.hpid = 0
        self.running = False
        self.close()
        return True

    def close(self) -> None:
        try:
            # Our copies go first: closing the control pipe ends a box still running (an
            # interrupt, an exception), and the report pipe can only reach EOF once no
            # write end of ours is left open.
            self.detach()
            self._wait_gone()
            for fd in self._fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._fds.clear()
        finally:
            self._stack.close()
