"""cgroup v1: separate memory, pids and cpuacct hierarchies (this machine's layout)."""

from __future__ import annotations

import contextlib
import os

from ..errors import HostUnsupportedError
from .base import (
    PARENT_NAME,
    Backend,
    BoxCgroup,
    JoinSpec,
    Usage,
    keyed,
    read_int,
    read_text,
    rmdir_retry,
    subdirectories,
    tasks_in,
)
from .base import write_text as _write

CONTROLLERS = ("memory", "pids", "cpuacct")


def find_mounts() -> dict[str, str] | None:
    """Mount point of each needed v1 controller, or None when one is missing."""
    found: dict[str, str] = {}
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields = right.split()
            if len(fields) < 3 or fields[0] != "cgroup":
                continue
            options = set(fields[2].split(","))
            for controller in CONTROLLERS:
                if controller in options and controller not in found:
                    found[controller] = left.split()[4]
    return found if all(c in found for c in CONTROLLERS) else None


def _own_path(controller: str) -> str:
    """Our process's cgroup in a v1 hierarchy, from /proc/self/cgroup."""
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        for line in handle:
            _, names, path = line.rstrip("\n").split(":", 2)
            if controller in names.split(","):
                return path
    return "/"


class V1Box(BoxCgroup):
    def __init__(self, backend: V1Backend, dirs: dict[str, str], memory: int,
                 pids: int) -> None:
        self.backend = backend
        self.dirs = dirs
        self._limits = (memory, pids)
        self._has_memsw = backend.has_memsw
        self._cpu_fd = os.open(os.path.join(dirs["cpuacct"], "cpuacct.usage"), os.O_RDONLY)
        # Opened once: a run reads them right after its program ends, on its critical path.
        self._usage_fds = tuple(
            os.open(os.path.join(dirs["memory"], name), os.O_RDONLY | os.O_CLOEXEC)
            for name in ("memory.oom_control", "memory.max_usage_in_bytes", "memory.failcnt"))
        # A reused cgroup's OOM kills and limit hits before its current box (v1 cannot
        # reset the OOM-kill count; the failure count is kept as a delta alike).
        self._oom_base = 0
        self._failcnt_base = 0
        self._reuse_fds: dict[str, int] = {}  # by file name

    @property
    def join(self) -> JoinSpec:
        return JoinSpec(v1_tasks=tuple(os.path.join(d, "tasks") for d in self.dirs.values()),
                        cpu_file=os.path.join(self.dirs["cpuacct"], "cpuacct.usage"))

    def cpu_ns(self) -> int:
        return read_int(self._cpu_fd)

    def usage(self) -> Usage:
        oom_fd, peak_fd, failcnt_fd = self._usage_fds
        oom = keyed(os.pread(oom_fd, 4096, 0).decode("ascii"))
        return Usage(self.cpu_ns(), read_int(peak_fd), oom.get("oom_kill", 0) - self._oom_base,
                     read_int(failcnt_fd) > self._failcnt_base)

    def procs_dir(self) -> str:
        return self.dirs["memory"]

    def directories(self) -> list[str]:
        return list(self.dirs.values())

    def set_limits(self, memory: int, pids: int) -> None:
        old_memory, old_pids = self._limits
        mem = self.dirs["memory"]
        if memory != old_memory:
            # The kernel keeps limit <= memsw limit at every step: raise memsw first when
            # growing, the limit first when shrinking.
            names = ["memory.limit_in_bytes"]
            if self._has_memsw:
                names.append("memory.memsw.limit_in_bytes")
            for name in (reversed(names) if memory > old_memory else names):
                _write(os.path.join(mem, name), str(memory))
        if pids != old_pids:
            _write(os.path.join(self.dirs["pids"], "pids.max"), str(pids))
        self._limits = (memory, pids)

    def remove(self) -> None:
        self.forget()
        for directory in self.dirs.values():
            rmdir_retry(directory)

    def forget(self) -> None:
        fds = (self._cpu_fd, *self._usage_fds, *self._reuse_fds.values())
        self._cpu_fd, self._usage_fds, self._reuse_fds = -1, (), {}
        for fd in fds:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)

    # ----- reuse: the files it reads are opened once, at the first release (a cgroup that
    # is reused serves hundreds of runs; one that never is pays nothing) -----

    def _reuse_file(self, name: str) -> int:
        fd = self._reuse_fds.get(name, -1)
        if fd < 0:
            controller = name.partition(".")[0]
            controller = "cpuacct" if controller == "cpuacct" else controller
            # The peak and CPU counters are written to reset them.
            flags = os.O_WRONLY if name in ("memory.max_usage_in_bytes",
                                            "cpuacct.usage") else os.O_RDONLY
            fd = os.open(os.path.join(self.dirs[controller], name), flags | os.O_CLOEXEC)
            self._reuse_fds[name] = fd
        return fd

    def quiet(self) -> bool:
        # Threads ("tasks") of every hierarchy, and no pid still charged: a task being reaped
        # has left the lists but may still hold its pid.
        # (Opened anew each time: v1 keeps the task list an open file read first for a
        # second, and a kept file would show tasks long gone.)
        if os.pread(self._reuse_file("pids.current"), 16, 0) != b"0\n" or any(
                tasks_in(d, "tasks") for d in self.dirs.values()):
            return False
        # A directory's link count is 2 plus its subdirectories (child cgroups).
        return all(os.stat(d).st_nlink == 2 for d in self.dirs.values())

    def charged(self) -> int:
        return read_int(self._reuse_file("memory.usage_in_bytes"))

    def cached(self) -> int:
        # All but kernel objects: with no task left, the page cache (and shmem) it charged.
        try:
            kmem = read_int(self._reuse_file("memory.kmem.usage_in_bytes"))
        except FileNotFoundError:
            kmem = 0
        return max(0, self.charged() - kmem)

    def reclaim(self) -> None:
        # With no task inside, force_empty reclaims what can be (page cache, slab caches).
        _write(os.path.join(self.dirs["memory"], "memory.force_empty"), "0")

    def rearm(self, memory: int, pids: int) -> bool:
        before = self.charged()
        # The peak restarts from what is charged now (little: see reuse.SETTLED), and the CPU
        # counter from zero: the supervisor compares it to the limit before init reports its
        # base, as with a fresh cgroup.
        os.write(self._reuse_file("memory.max_usage_in_bytes"), b"0")
        os.write(self._reuse_file("cpuacct.usage"), b"0")
        oom_fd, peak_fd, failcnt_fd = self._usage_fds
        if read_int(self._cpu_fd) != 0 or read_int(peak_fd) > before:
            return False  # a reset the kernel did not apply (with no task, nothing can grow)
        self._oom_base = keyed(os.pread(oom_fd, 4096, 0).decode("ascii")).get("oom_kill", 0)
        self._failcnt_base = read_int(failcnt_fd)
        self.set_limits(memory, pids)
        return True


class V1Backend(Backend):
    version = 1

    def __init__(self, mounts: dict[str, str]) -> None:
        self.mounts = mounts
        self.parents: dict[str, str] = {}
        for controller, mount in mounts.items():
            # Beside our own cgroup would put boxes inside a cgroup we did not make (the
            # machine's own live under memory:/process_api); one parent of ours at the top.
            parent = os.path.join(mount, PARENT_NAME)
            with contextlib.suppress(FileExistsError):
                os.mkdir(parent, 0o755)
            self.parents[controller] = parent
        memsw = os.path.join(self.parents["memory"], "memory.memsw.limit_in_bytes")
        self.has_memsw = os.path.exists(memsw)
        if not self.has_memsw and _swap_total() > 0:
            raise HostUnsupportedError(
                "cgroup v1 memory.memsw (swap accounting) is off but swap is on: the memory "
                "limit could be evaded through swap; boot with swapaccount=1 or turn swap off"
            )

    def create(self, name: str, memory: int, pids: int) -> BoxCgroup:
        dirs: dict[str, str] = {}
        try:
            for controller, parent in self.parents.items():
                path = os.path.join(parent, name)
                os.mkdir(path, 0o755)
                dirs[controller] = path
            mem = dirs["memory"]
            _write(os.path.join(mem, "memory.limit_in_bytes"), str(memory))
            if self.has_memsw:
                # Limit memory+swap to the same number: swap cannot extend the limit.
                _write(os.path.join(mem, "memory.memsw.limit_in_bytes"), str(memory))
            _write(os.path.join(mem, "memory.swappiness"), "0")
            _write(os.path.join(dirs["pids"], "pids.max"), str(pids))
            return V1Box(self, dirs, memory, pids)
        except BaseException:
            for path in dirs.values():
                with contextlib.suppress(OSError):
                    os.rmdir(path)
            raise

    def reuse_supported(self) -> bool:
        return True

    def describe(self) -> dict[str, object]:
        return {"version": 1, "mounts": self.mounts, "parents": self.parents,
                "swap_accounting": self.has_memsw}

    def box_dirs(self) -> list[str]:
        return [box for parent in self.parents.values() for box in subdirectories(parent)]


def _swap_total() -> int:
    fields = keyed(read_text("/proc/meminfo").replace(":", "").replace(" kB", ""))
    return fields.get("SwapTotal", 0)


__all__ = ["V1Backend", "_own_path", "find_mounts", "read_int"]
