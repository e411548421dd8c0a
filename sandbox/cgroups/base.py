"""One interface over cgroup v1 and v2: make a box cgroup, join it, measure it, remove it."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from .._record import FrozenRecord

# Every cgroup we make is named box-<creator pid>-<sequence>: a later process can tell
# whether the creator is still alive and clean up after one that crashed.


def box_name_creator(name: str) -> int | None:
    """The creator pid in a box cgroup's name "box-<pid>-<sequence>", None for another
    name. (By hand: a pattern would cost every one-shot run an import of re.)"""
    prefix, _, rest = name.partition("-")
    pid, sep, sequence = rest.partition("-")
    if prefix != "box" or not sep or not (pid.isascii() and pid.isdigit()) or not (
            sequence.isascii() and sequence.isdigit()):
        return None
    return int(pid)

PARENT_NAME = os.environ.get("SANDBOX_CGROUP_PARENT", "pysandbox")


class Usage(FrozenRecord):
    cpu_ns: int
    memory_peak: int
    oom_kills: int
    memory_limit_hit: bool
    cpu_floor: int  # the CPU counter when the box got the cgroup (a reused one's is not 0)
    _fields = ("cpu_ns", "memory_peak", "oom_kills", "memory_limit_hit", "cpu_floor")

    def __init__(self, cpu_ns: int, memory_peak: int, oom_kills: int,
                 memory_limit_hit: bool, cpu_floor: int = 0) -> None:
        self._init(cpu_ns=cpu_ns, memory_peak=memory_peak, oom_kills=oom_kills,
                   memory_limit_hit=memory_limit_hit, cpu_floor=cpu_floor)


class JoinSpec(FrozenRecord):
    """How the native helper enters the box cgroup before cloning the box."""

    v1_tasks: tuple[str, ...]  # write "0" to each (cheap self-move of one thread)
    v2_dir: str | None  # clone3(CLONE_INTO_CGROUP) into this directory
    cpu_file: str  # the CPU counter init reads at payload start and end
    cpu_usec: bool  # v2 cpu.stat counts microseconds, v1 cpuacct.usage nanoseconds
    _fields = ("v1_tasks", "v2_dir", "cpu_file", "cpu_usec")

    def __init__(self, v1_tasks: tuple[str, ...] = (), v2_dir: str | None = None,
                 cpu_file: str = "", cpu_usec: bool = False) -> None:
        self._init(v1_tasks=v1_tasks, v2_dir=v2_dir, cpu_file=cpu_file, cpu_usec=cpu_usec)


class BoxCgroup(ABC):
    backend: Backend | None = None  # the backend that made it (its reuse rules)
    # The CPU counter when the current box got the cgroup: 0 for a fresh one; a reused one
    # whose counter cannot be reset (v2) counts from here until init reports its own base.
    cpu_floor = 0

    @property
    @abstractmethod
    def join(self) -> JoinSpec: ...

    @abstractmethod
    def cpu_ns(self) -> int:
        """CPU time of every task that ever ran in the box, in nanoseconds."""

    @abstractmethod
    def usage(self) -> Usage: ...

    @abstractmethod
    def procs_dir(self) -> str:
        """The box cgroup directory that lists its processes (v1: the memory one)."""

    def procs(self) -> list[int]:
        """Host pids of the processes in the box cgroup."""
        return tasks_in(self.procs_dir())

    @abstractmethod
    def directories(self) -> list[str]:
        """Every directory of the box cgroup (one per v1 hierarchy)."""

    @abstractmethod
    def set_limits(self, memory: int, pids: int) -> None:
        """Change the limits of a prepared box before its run starts (no-op when equal)."""

    @abstractmethod
    def remove(self) -> None:
        """Remove the cgroup; every task in it must already be dead."""

    # ----- reuse (see reuse.py); a backend that cannot prove a cgroup clean keeps these -----

    def quiet(self) -> bool:
        """Whether no task, no pid charge and no child cgroup is left in it."""
        return False

    def charged(self) -> int:
        """Bytes of memory still charged to it."""
        raise OSError("not reusable")

    def cached(self) -> int:
        """Bytes of page cache and shmem still charged to it (what its kernel objects are
        not)."""
        return self.charged()

    def reclaim(self) -> None:
        """Reclaim what is charged to it (no task may be in it)."""
        raise OSError("not reusable")

    def rearm(self, memory: int, pids: int) -> bool:
        """Make an idle cgroup measure like a fresh one from now on (peak reset, counters
        that cannot be reset taken as deltas) with these limits; False if it cannot."""
        return False

    @abstractmethod
    def forget(self) -> None:
        """In a forked child: close our copies of its file descriptors, nothing else."""


class Backend(ABC):
    version: int

    @abstractmethod
    def create(self, name: str, memory: int, pids: int) -> BoxCgroup: ...

    def reuse_supported(self) -> bool:
        """Whether this host can prove an idle cgroup as good as a fresh one."""
        return False

    @abstractmethod
    def describe(self) -> dict[str, object]:
        """What `sandbox doctor` prints: mount points and controllers in use."""

    @abstractmethod
    def box_dirs(self) -> list[str]:
        """Every box cgroup directory under our parents (for stale cleanup)."""

    def destroy(self, directory: str) -> None:
        """Kill whatever is left in a stale box cgroup directory and remove it."""

        def kill_tasks() -> None:
            for pid in tasks_in(directory):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

        rmdir_retry(directory, attempts=400, between=kill_tasks)


def being_removed(exc: OSError) -> bool:
    """ENODEV: the kernel has begun removing the cgroup (another process's rmdir, as when two
    processes start at once and both sweep the same stale boxes): as good as gone."""
    return exc.errno == errno.ENODEV


def rmdir_retry(directory: str, attempts: int = 200,
                between: Callable[[], None] | None = None) -> None:
    """rmdir a cgroup: a task that has just been reaped can hold it busy for a moment."""
    for attempt in range(attempts):
        try:
            if between is not None:
                between()
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if being_removed(exc):
                return
            if attempt == attempts - 1:
                raise
            time.sleep(0.005)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_btime: list[int] = []


def _boot_time() -> int:
    """The boot time in epoch seconds (read once: every process start scans every stale box
    cgroup, and /proc/stat is generated anew at each read)."""
    if not _btime:
        with open("/proc/stat", "rb") as handle:
            _btime.append(next(int(line.split()[1]) for line in handle
                               if line.startswith(b"btime ")))
    return _btime[0]


def creator_alive(pid: int, created: float) -> bool:
    """Whether the process that made a cgroup at time `created` (epoch seconds) still runs:
    pid `pid` exists and started before then (a reused pid belongs to a younger process)."""
    if not pid_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        btime = _boot_time()
    except (OSError, StopIteration, IndexError, ValueError):
        return True  # when in doubt, leave it alone
    started = btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    # btime and cgroup times have one-second granularity (and the wall clock may be stepped).
    return started <= created + 2.0


def read_int(fd: int) -> int:
    return int(os.pread(fd, 64, 0).split()[0])


def write_text(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def subdirectories(parent: str) -> list[str]:
    """The child cgroups of `parent` (none if it is gone). The directory entries' types say
    which are directories: a stat of each of the dozens of control files beside them cost a
    one-shot run a third of a millisecond."""
    try:
        with os.scandir(parent) as entries:
            return [entry.path for entry in entries if entry.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def read_text(path: str) -> str:
    with open(path, encoding="ascii") as handle:
        return handle.read()


def keyed(text: str) -> dict[str, int]:
    """Parse "key value" lines (memory.events, cpu.stat, memory.oom_control)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def tasks_in(directory: str, filename: str = "cgroup.procs") -> list[int]:
    try:
        return [int(x) for x in read_text(os.path.join(directory, filename)).split()]
    except FileNotFoundError:
        return []
    except OSError as exc:
        if being_removed(exc):
            return []
        raise
