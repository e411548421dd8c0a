"""Start a run's native outer process: through a per-process zygote, or by posix_spawn.

The zygote (`boxinit --serve`) is a tiny static process that forks one outer per request;
on this VM a fork of it costs ~0.1 ms where an exec costs ~0.5 ms. It lives as long as this
Python process: when we exit, its socket sees EOF and it exits, and PDEATHSIG ends any box it
started. SANDBOX_ZYGOTE=0 turns it off (every run then spawns the helper directly), and so
does `one_shot()` for the runs of one thread (`sandbox doctor`'s smoke run).
"""

from __future__ import annotations

import _thread  # (threading's Lock is this; threading itself costs a one-shot run)
import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket

_lock = _thread.allocate_lock()
_zygote: tuple[int, int, socket.socket] | None = None  # (owner pid, zygote pid, socket)
#: Set by `one_shot`: this thread's runs keep nothing for later runs (here: no zygote; the
#: pool reads it too, and prepares no warm boxes).
ONE_SHOT: ContextVar[bool] = ContextVar("sandbox_one_shot", default=False)


@contextlib.contextmanager
def one_shot() -> Iterator[None]:
    """Runs in this block (this thread only) start no zygote and leave no warm boxes: the
    process is left as it was found (a check in a process that never runs boxes itself)."""
    token = ONE_SHOT.set(True)
    try:
        yield
    finally:
        ONE_SHOT.reset(token)


def pool_depth() -> int:
    """Warm boxes kept ready per shape (SANDBOX_POOL; 0 turns the pool off, as `one_shot`
    does). Here rather than in `_pool`, so that a run can ask without importing the pool."""
    if ONE_SHOT.get():
        return 0
    raw = os.environ.get("SANDBOX_POOL", "2")
    return max(0, min(8, int(raw))) if raw.isdigit() else 2


def _enabled() -> bool:
    return os.environ.get("SANDBOX_ZYGOTE", "1") != "0" and not ONE_SHOT.get()


def _start_zygote(helper: str) -> tuple[int, int, socket.socket]:
    import socket  # (the zygote's only: a one-shot run spawns directly)

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        pid = os.posix_spawn(helper, [helper, "--serve"], {}, file_actions=[
            (os.POSIX_SPAWN_DUP2, theirs.fileno(), 3),
        ])
    finally:
        theirs.close()
    return os.getpid(), pid, ours


def _get_zygote(helper: str) -> tuple[int, int, socket.socket]:
    global _zygote
    with _lock:
        if _zygote is not None and _zygote[0] == os.getpid() and _exited(_zygote[1]):
            _zygote[2].close()  # someone killed it: reaped above, start another
            _zygote = None
        if _zygote is None or _zygote[0] != os.getpid():
            # A forked child gets its own zygote: its parent's is not its child to reap.
            _zygote = _start_zygote(helper)
        return _zygote


def _exited(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def zygote_pid() -> int:
    """This process's zygote, 0 if none: a long-lived helper, not a leftover of any run."""
    zygote = _zygote
    return zygote[1] if zygote is not None and zygote[0] == os.getpid() else 0


def _drop_zygote(stale: tuple[int, int, socket.socket]) -> None:
    global _zygote
    with _lock:
        if _zygote is stale:
            _zygote = None
    stale[2].close()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(stale[1], 0)


def parent_pid() -> int:
    """The pid the outer must see as its parent, or 0 for "do not check" (with the zygote,
    whose lifetime is ours anyway, and whose fallback path spawns directly)."""
    return 0 if _enabled() else os.getpid()


class Pending:
    """A zygote request whose reply (the outer's pidfd) has not been read yet."""

    def __init__(self, zygote: tuple[int, int, socket.socket], reply: socket.socket) -> None:
        self._zygote = zygote
        self._reply = reply

    def pidfd(self) -> int:
        """The outer's pidfd, or -1 when the zygote failed (then no outer exists)."""
        import socket

        try:
            _, got, _, _ = socket.recv_fds(self._reply, 1, 1)
        except OSError:
            got = []
        finally:
            self._reply.close()
        if got:
            return got[0]
        _drop_zygote(self._zygote)
        return -1

    def forget(self) -> None:
        self._reply.close()


def spawn(helper: str, fds: list[int]) -> tuple[int, int]:
    """Start an outer with `fds` as its 0-6 (and 7: a network namespace to join). Returns (pid, pidfd): pid is nonzero when the
    outer is our own child (to reap); the pidfd turns readable when the outer has exited,
    and the outer exits only after every process of its box is gone."""
    if _enabled():
        pending = spawn_later(helper, fds)
        if pending is not None:
            pidfd = pending.pidfd()
            if pidfd >= 0:
                return 0, pidfd
        # The zygote died (killed by someone, or out of memory): start afresh next time,
        # and run this one directly.
    pid = os.posix_spawn(helper, [helper], {}, file_actions=[
        (os.POSIX_SPAWN_DUP2, fd, number) for number, fd in enumerate(fds)])
    return pid, os.pidfd_open(pid)


def spawn_later(helper: str, fds: list[int]) -> Pending | None:
    """Ask the zygote for an outer without waiting for it to fork one (a prepared box needs
    its pidfd only when it is torn down). None when there is no working zygote."""
    if not _enabled():
        return None
    import socket

    zygote = _get_zygote(helper)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        socket.send_fds(zygote[2], [b"r"], [*fds, theirs.fileno()])
    except OSError:
        ours.close()
        _drop_zygote(zygote)
        return None
    finally:
        theirs.close()
    return Pending(zygote, ours)
