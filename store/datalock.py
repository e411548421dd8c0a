"""One judge per data directory: a ``flock`` on ``$JUDGE_DATA_DIR/judge.lock``.

Two ``judge up`` on one data directory would run two Redis servers appending to one
append-only file and two sets of workers on one SQLite file. So:

- ``judge up`` holds an exclusive lock for its whole life and writes its PID into the file
  (for the message of whoever is refused). Its children (Redis, the web server, the workers)
  inherit the locked file: the lock is the whole family's, and ends only when the last of
  them has exited, so a new ``judge up`` cannot start beside the leftovers of a killed one.
  They find it through ``_JUDGE_UP_LOCK_FD`` (an internal hand-over, not a setting).
- A standalone ``judge web`` or ``judge worker`` on SQLite holds a shared lock on the
  directory of its SQLite file (the data directory by default): several of them may share
  the file (the parts of one judge started by hand), but not with a ``judge up``, whose own
  web server and workers already use it. On PostgreSQL they take no lock at all: workers on
  many machines are the point of it.

The kernel drops a ``flock`` with the last descriptor of the open file, so a ``kill -9``
leaves no stale lock, only a stale PID in the file, which nobody trusts without the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_FILE = "judge.lock"
INHERITED_FD = "_JUDGE_UP_LOCK_FD"


class Busy(Exception):
    """The data directory is in use; the message says by which process."""


class DataLock:
    """A lock held through an open descriptor; it lasts as long as the descriptor."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def env(self) -> dict[str, str]:
        """What a child started with ``pass_fds=(lock.fd,)`` needs to know the lock is its."""
        return {INHERITED_FD: str(self.fd)}

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _open(data: Path) -> tuple[int, Path]:
    path = data / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # flock needs no write access
    return fd, path


def _try(fd: int, how: int) -> bool:
    try:
        fcntl.flock(fd, how | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def take_exclusive(data: Path) -> DataLock:
    """``judge up``'s lock on ``data`` (which must exist); Busy when anyone else uses it."""
    fd, path = _open(data)
    try:
        if not _try(fd, fcntl.LOCK_EX):
            if _try(fd, fcntl.LOCK_SH):  # only shared holders: standalone web/worker
                fcntl.flock(fd, fcntl.LOCK_UN)
                pids = ", ".join(map(str, _holders(fd))) or "unknown"
                raise Busy(f"a judge web or judge worker (PID {pids}) uses the SQLite "
                           f"database in {data}; stop it first, or set another JUDGE_DATA_DIR")  # fmt: skip
            raise Busy(f"another judge up (PID {_pid_in(path)}) is running on {data}; "
                       "stop it first, or set another JUDGE_DATA_DIR")  # fmt: skip
        with contextlib.suppress(OSError):  # a read-only file still locks; the PID is a nicety
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return DataLock(fd, path)


def take_shared(data: Path) -> DataLock | None:
    """A standalone web server's or worker's lock on ``data`` (made if missing, as the SQLite
    file's directory will be); Busy while a ``judge up`` runs there; None when the directory
    cannot hold a lock file at all."""
    with contextlib.suppress(OSError):
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd, path = _open(data)
    except OSError:
        return None  # nothing can lock it, so no judge up runs there either
    if not _try(fd, fcntl.LOCK_SH):
        pid = _pid_in(path)
        os.close(fd)
        raise Busy(f"judge up (PID {pid}) is running on {data}, and its own web server and "
                   "workers use its SQLite database; stop it first, or set another "
                   "JUDGE_DATA_DIR")  # fmt: skip
    return DataLock(fd, path)


def inherited(data: Path) -> DataLock | None:
    """The lock of the ``judge up`` that started this process, when it is one of its
    children: the descriptor it passed is the lock file of ``data``, and it holds the
    exclusive lock (only the holder's own open file can take it while the holder lives)."""
    raw = os.environ.get(INHERITED_FD, "")
    if not raw.isdigit():
        return None
    fd = int(raw)
    try:
        mine, theirs = os.fstat(fd), os.stat(data / LOCK_FILE)
    except OSError:
        return None
    if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
        return None
    if not _try(fd, fcntl.LOCK_EX):
        return None
    # Ours alone now: no program this process starts (a sandbox helper) gets it, and no
    # grandchild takes itself for a child of judge up.
    os.set_inheritable(fd, False)
    os.environ.pop(INHERITED_FD, None)
    return DataLock(fd, data / LOCK_FILE)


_held: list[DataLock] = []


def hold_for_part(data: Path, database_url: str) -> None:
    """The lock of a ``judge web`` or ``judge worker`` on ``data`` with this database, kept for
    the life of this process (Busy: refuse to start). A standalone part on SQLite locks the
    directory of its SQLite file: the data directory, unless the URL puts the file elsewhere.
    """
    from sqlalchemy.engine import make_url

    own = inherited(data)
    if own is None:
        parsed = make_url(database_url)
        name = parsed.database or ""
        if parsed.get_backend_name() != "sqlite" or name in ("", ":memory:"):
            return
        own = take_shared(Path(name).resolve().parent)
    if own is not None:
        _held.append(own)


def _pid_in(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


def _holders(fd: int) -> list[int]:
    """PIDs holding a flock on fd's file, from /proc/locks (``N: FLOCK ADVISORY READ pid
    maj:min:inode 0 EOF``; a waiter's line has ``->`` before FLOCK)."""
    st = os.fstat(fd)
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    found: list[int] = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == key:
                with contextlib.suppress(ValueError):
                    pid = int(fields[4])
                    if pid > 0 and pid != os.getpid() and pid not in found:
                        found.append(pid)
    return sorted(found)
