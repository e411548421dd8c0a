"""Host uid slots: each concurrent box gets its own unprivileged host uid.

A slot is held with flock on a file in the state dir, so two processes never share one, and
kept by this process once taken (a lock costs a syscall; a fresh file per run costs more).
"""

from __future__ import annotations

import _thread  # (threading's Lock is this; threading itself costs a one-shot run)
import contextlib
import fcntl
import os
from collections.abc import Iterator

from .errors import HostUnsupportedError

UID_BASE = int(os.environ.get("SANDBOX_UID_BASE", "1900000000"))
MAX_SLOTS = 4096

_lock = _thread.allocate_lock()
_free: list[int] = []
_held: dict[int, int] = {}  # slot -> lock fd


def state_dir() -> str:
    path = os.environ.get("SANDBOX_STATE_DIR", "/run/pysandbox")
    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.lstat(path)
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise HostUnsupportedError(f"sandbox state dir {path} must be ours with mode 0700")
    for sub in ("slots", "newroot"):
        with contextlib.suppress(FileExistsError):
            os.mkdir(os.path.join(path, sub), 0o700)
    return path


def _take_new() -> int:
    slots = os.path.join(state_dir(), "slots")
    for slot in range(MAX_SLOTS):
        if slot in _held:
            continue
        fd = os.open(os.path.join(slots, str(slot)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _held[slot] = fd
        return slot
    raise HostUnsupportedError(f"all {MAX_SLOTS} sandbox uid slots are in use")


@contextlib.contextmanager
def slot() -> Iterator[int]:
    """A slot number for the duration of one run."""
    with _lock:
        number = _free.pop() if _free else _take_new()
    try:
        yield number
    finally:
        with _lock:
            _free.append(number)


def _after_fork_in_child() -> None:
    # Our copies of the parent's lock fds share its locks: a child must take slots of its
    # own, or it would run boxes under the uids of the parent's.
    global _lock
    _lock = _thread.allocate_lock()
    for fd in _held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()
    _free.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def host_uid(slot_number: int) -> int:
    """The box's uid 0 on the host. Each slot owns two host uids: this one, and the next
    for the seccomp keeper (box uid 1), so no two boxes ever share a host uid."""
    return UID_BASE + 2 * slot_number


def keeper_uid(slot_number: int) -> int:
    return host_uid(slot_number) + 1
