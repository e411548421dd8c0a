"""cgroup v2 (unified): one hierarchy, a delegated parent of ours, clone straight into the box.

Layout. v2's "no internal processes" rule: a non-root cgroup that holds processes cannot
enable controllers for its children. Our own cgroup holds at least this process, so the
parent of every box (`pysandbox`) goes beside it, in our cgroup's parent, and holds no process:

    <root>/pysandbox/box-<pid>-<n>           we run in the root cgroup (exempt from the rule)
    <root>/ci/job       (us)                 we run in a leaf cgroup with processes:
    <root>/ci/pysandbox/box-<pid>-<n>        our parent is its sibling

SANDBOX_CGROUP_ROOT names another delegated cgroup (without processes) to put it under.

Limits of a box: memory.max, memory.swap.max=0 (swap cannot extend the limit), pids.max. The
OOM-kill counter is memory.events `oom_kill`; the peak is memory.peak; CPU is cpu.stat
`usage_usec`, summed over every task the box ever had. The box is created empty and the
native helper clones its init straight into it (clone3 CLONE_INTO_CGROUP), so no task is ever
migrated. A stuck box is ended with cgroup.kill, which also takes stopped tasks.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time

from ..errors import HostUnsupportedError, SandboxError
from .base import (
    PARENT_NAME,
    Backend,
    BoxCgroup,
    JoinSpec,
    Usage,
    being_removed,
    keyed,
    read_text,
    subdirectories,
    tasks_in,
    write_text,
)

NEEDED = ("memory", "pids", "cpu")
# Reusing a box cgroup (reuse.py) on v2 needs a kernel that resets memory.peak per open file
# (6.12+); on older ones every box gets a fresh cgroup. .ci/v2-tests.sh runs
# test_cgroup_reuse.py on both (Debian's 6.12 and 6.1 guests). False turns v2 reuse off.
REUSE_TESTED = True

# memory.oom.group=1 would make one OOM kill end every task of the box at once (a fork tree
# could not keep running after one of its processes was OOM-killed). But the kernel then also
# kills the box's init, which lives in the same cgroup: init reports nothing and an MLE turns
# into an internal error (seen on the 6.1 guest). Exempting init (oom_score_adj -1000) needs
# CAP_SYS_RESOURCE, which hosts may not grant. The fix is a layout where init is outside the
# memory-limited cgroup (box/init + box/prog, the payload cloned into prog); it needs the helper
# to clone the payload there. Until then an OOM kill takes the payload (the kernel's pick: it
# has oom_score_adj 1000) and init then kills the rest, exactly as on cgroup v1.
OOM_GROUP = False


def cgroup2_mounts() -> list[tuple[str, str]]:
    """(mount point, root of the mount inside the hierarchy) of every cgroup2 mount."""
    out: list[tuple[str, str]] = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                fields = left.split()
                out.append((_unescape(fields[4]), _unescape(fields[3])))
    return out


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    if "\\" not in field:
        return field
    import re  # (only to read a mount path with escapes, not on every run)

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def controllers_of(directory: str) -> list[str]:
    try:
        return read_text(os.path.join(directory, "cgroup.controllers")).split()
    except OSError:
        return []


def find_mount() -> str | None:
    """The cgroup2 mount point when it is the unified hierarchy with our controllers."""
    # A mount of the whole hierarchy first: a subtree mount may hide our own cgroup.
    for mount, _root in sorted(cgroup2_mounts(), key=lambda m: m[1] != "/"):
        if all(c in controllers_of(mount) for c in NEEDED):
            return mount
    return None


def why_not() -> str:
    """One line: why find_mount() found no usable cgroup v2 hierarchy."""
    mounts = cgroup2_mounts()
    if not mounts:
        return "no cgroup2 file system is mounted"
    mount = mounts[0][0]
    have = controllers_of(mount)
    missing = [c for c in NEEDED if c not in have]
    return (f"the cgroup v2 hierarchy at {mount} lacks the {', '.join(missing)} "
            f"controller{'s' if len(missing) > 1 else ''} (offers: {' '.join(have) or 'none'};"
            " on a hybrid host they are bound to cgroup v1 hierarchies)")


def own_cgroup(mount: str, mount_root: str = "/") -> str:
    """Directory of this process's cgroup under `mount` (the mount may show a subtree only)."""
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("0::"):
                path = line[3:].rstrip("\n")
                if path.endswith(" (deleted)"):
                    path = path[: -len(" (deleted)")]
                rel = os.path.relpath(path, mount_root) if mount_root != "/" else path
                if rel == "." or rel.startswith(".."):
                    # Our cgroup is the mount's root, or not visible through this mount.
                    return mount
                return os.path.normpath(os.path.join(mount, rel.lstrip("/")))
    return mount


def parent_base(mount: str, own: str, override: str | None = None) -> str:
    """The cgroup that holds our parent: beside our own cgroup, never inside it."""
    if override:
        base = override if override.startswith(mount + "/") or override == mount else (
            os.path.join(mount, override.lstrip("/")))
        base = os.path.normpath(base)
        if not (base == mount or base.startswith(mount + "/")) or not os.path.isdir(base):
            raise SandboxError(f"SANDBOX_CGROUP_ROOT={override}: not a cgroup under {mount}")
        return base
    own = os.path.normpath(own)
    if own == mount:
        # The root cgroup may hold processes and still enable controllers for its children
        # (and in a cgroup namespace whose root holds processes, enabling will fail with a
        # message that names SANDBOX_CGROUP_ROOT).
        return mount
    return os.path.dirname(own)


def kernel_at_least(major: int, minor: int) -> bool:
    release = os.uname().release.split("-", 1)[0].split(".")
    try:
        return (int(release[0]), int(release[1])) >= (major, minor)
    except (IndexError, ValueError):
        return True


def swap_total() -> int:
    fields = keyed(read_text("/proc/meminfo").replace(":", "").replace(" kB", ""))
    return fields.get("SwapTotal", 0)


class V2Box(BoxCgroup):
    def __init__(self, path: str, exact_peak: bool, has_kill: bool, memory: int,
                 pids: int, backend: V2Backend | None = None) -> None:
        self.backend = backend
        self.path = path
        # A reused cgroup's OOM kills and limit hits before its current box (memory.events
        # cannot be reset).
        self._events_base = (0, 0)
        self._limits = (memory, pids)
        self._has_kill = has_kill
        self._fds: list[int] = []
        self._stat_fd = self._open("cpu.stat")
        # Kernels before 5.19 have no memory.peak: sample memory.current whenever the
        # supervisor polls the CPU counter (a lower bound of the true peak, documented).
        self._current_fd = -1 if exact_peak else self._open("memory.current")
        self._sampled_peak = 0
        # Opened once: a run reads them right after its program ends, on its critical path.
        self._events_fd = self._open("memory.events")
        self._peak_fd = self._open("memory.peak") if exact_peak else -1

    def _open(self, name: str) -> int:
        fd = os.open(os.path.join(self.path, name), os.O_RDONLY | os.O_CLOEXEC)
        self._fds.append(fd)
        return fd

    @property
    def join(self) -> JoinSpec:
        return JoinSpec(v2_dir=self.path, cpu_file=os.path.join(self.path, "cpu.stat"),
                        cpu_usec=True)

    def cpu_ns(self) -> int:
        head = os.pread(self._stat_fd, 512, 0)
        if self._current_fd >= 0:
            self._sampled_peak = max(self._sampled_peak,
                                     int(os.pread(self._current_fd, 64, 0) or b"0"))
        # "usage_usec N" is the first line of cpu.stat on every kernel that has it.
        if head.startswith(b"usage_usec "):
            return int(head[11:head.index(b"\n")]) * 1000
        return keyed(head.decode("ascii"))["usage_usec"] * 1000

    def usage(self) -> Usage:
        cpu = self.cpu_ns()
        events = keyed(os.pread(self._events_fd, 4096, 0).decode("ascii"))
        if self._peak_fd >= 0:
            peak = int(os.pread(self._peak_fd, 64, 0))
        else:
            peak = self._sampled_peak
            if events.get("oom_kill", 0) or events.get("max", 0):
                # The box reached its limit at least once.
                peak = max(peak, int(read_text(os.path.join(self.path, "memory.max"))))
        oom_base, max_base = self._events_base
        return Usage(cpu, peak, events.get("oom_kill", 0) - oom_base,
                     events.get("max", 0) > max_base, self.cpu_floor)

    def kill(self) -> None:
        kill_cgroup(self.path, self._has_kill)

    def procs_dir(self) -> str:
        return self.path

    def directories(self) -> list[str]:
        return [self.path]

    def set_limits(self, memory: int, pids: int) -> None:
        old_memory, old_pids = self._limits
        if memory != old_memory:
            write_text(os.path.join(self.path, "memory.max"), str(memory))
        if pids != old_pids:
            write_text(os.path.join(self.path, "pids.max"), str(pids))
        self._limits = (memory, pids)

    def remove(self) -> None:
        self.forget()
        remove_cgroup(self.path, self._has_kill)

    def forget(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    # ----- reuse (only where the kernel resets memory.peak: see V2Backend.reuse_supported)

    def quiet(self) -> bool:
        if tasks_in(self.path) or tasks_in(self.path, "cgroup.threads") or _populated(
                self.path) or subdirectories(self.path):
            return False
        return read_text(os.path.join(self.path, "pids.current")).strip() == "0"

    def charged(self) -> int:
        return int(read_text(os.path.join(self.path, "memory.current")))

    def cached(self) -> int:
        # "file" counts page cache and shmem (tmpfs) alike.
        return keyed(read_text(os.path.join(self.path, "memory.stat"))).get("file", 0)

    def reclaim(self) -> None:
        charged = self.charged()
        if charged:
            # EAGAIN: not all of it could be reclaimed; the caller looks at what is left.
            with contextlib.suppress(BlockingIOError):
                write_text(os.path.join(self.path, "memory.reclaim"), str(charged))

    def rearm(self, memory: int, pids: int) -> bool:
        if self._peak_fd < 0:
            return False
        before = self.charged()
        # Linux 6.12+: a write to memory.peak restarts the peak at the current usage for the
        # reads through that same open file (the cgroup's own peak is not changed).
        fd = os.open(os.path.join(self.path, "memory.peak"), os.O_RDWR | os.O_CLOEXEC)
        try:
            os.write(fd, b"reset\n")
            if int(os.pread(fd, 64, 0)) > before:
                raise OSError("memory.peak was not reset")
        except BaseException:
            os.close(fd)
            raise
        self._fds.remove(self._peak_fd)
        os.close(self._peak_fd)
        self._peak_fd = fd
        self._fds.append(fd)
        events = keyed(os.pread(self._events_fd, 4096, 0).decode("ascii"))
        self._events_base = (events.get("oom_kill", 0), events.get("max", 0))
        self.cpu_floor = self.cpu_ns()
        self.set_limits(memory, pids)
        return True


def _peak_resettable(parent: str) -> bool:
    """Whether this kernel resets memory.peak per open file (6.12+; before, the file is
    read-only): without that a reused cgroup's peak would be an earlier run's."""
    if not os.path.exists(os.path.join(parent, "memory.reclaim")):
        return False
    try:
        fd = os.open(os.path.join(parent, "memory.peak"), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.write(fd, b"reset\n")  # (affects the reads through this fd only)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def kill_cgroup(path: str, has_kill: bool) -> None:
    """SIGKILL every task in `path` and below (stopped and frozen ones too)."""
    if has_kill:
        with contextlib.suppress(FileNotFoundError):
            write_text(os.path.join(path, "cgroup.kill"), "1")
        return
    # Before 5.14: signal what is listed; the caller retries until the cgroup is empty.
    for directory, _dirs, _files in os.walk(path):
        for pid in tasks_in(directory):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _populated(path: str) -> bool:
    try:
        return keyed(read_text(os.path.join(path, "cgroup.events"))).get("populated", 0) > 0
    except FileNotFoundError:
        return False


def _wait_unpopulated(path: str, timeout: float) -> None:
    """Wait until no task is left in `path`: cgroup.events signals each change (POLLPRI)."""
    deadline = time.monotonic() + timeout
    try:
        fd = os.open(os.path.join(path, "cgroup.events"), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        poller = select.poll()
        poller.register(fd, select.POLLPRI | select.POLLERR)
        while True:
            text = os.pread(fd, 256, 0).decode("ascii")
            if keyed(text).get("populated", 0) == 0:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            poller.poll(min(left, 0.05) * 1000)
    finally:
        os.close(fd)


def remove_cgroup(path: str, has_kill: bool, timeout: float = 5.0) -> None:
    """Remove a box cgroup (and any child cgroup in it), killing what is still inside."""
    deadline = time.monotonic() + timeout
    killed = False
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if being_removed(exc):
                return
            if time.monotonic() >= deadline:
                raise
        try:
            # Busy: child cgroups, or tasks still inside (normally the box's pid namespace is
            # gone already and a just-reaped task keeps the cgroup busy for a moment).
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(path):
                    if entry.is_dir(follow_symlinks=False):
                        remove_cgroup(entry.path, has_kill,
                                      max(0.1, deadline - time.monotonic()))  # fmt: skip
            if _populated(path):
                # Nothing may outlive the run.
                if not killed or not has_kill:
                    kill_cgroup(path, has_kill)
                    killed = True
                _wait_unpopulated(path, min(0.5, max(0.0, deadline - time.monotonic())))
            else:
                time.sleep(0.002)
        except OSError as exc:
            if being_removed(exc):
                return
            raise


class V2Backend(Backend):
    version = 2

    def __init__(self, mount: str) -> None:
        if not kernel_at_least(5, 7):
            raise HostUnsupportedError(
                f"cgroup v2 needs Linux 5.7 or newer (clone3 CLONE_INTO_CGROUP); this kernel is "
                f"{os.uname().release}")
        self.mount = mount
        mount_root = dict(cgroup2_mounts()).get(mount, "/")
        self.own = own_cgroup(mount, mount_root)
        self.base = parent_base(mount, self.own, os.environ.get("SANDBOX_CGROUP_ROOT"))
        self.parent = os.path.join(self.base, PARENT_NAME)
        self._enable_controllers(self.base)
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.parent, 0o755)
        self._enable_controllers(self.parent)

        def has(name: str) -> bool:
            return os.path.exists(os.path.join(self.parent, name))

        for name in ("memory.max", "memory.events", "pids.max", "cpu.stat"):
            if not has(name):
                raise HostUnsupportedError(f"cgroup v2: {self.parent}/{name} is missing")
        self.has_swap_max = has("memory.swap.max")
        if not self.has_swap_max and swap_total() > 0:
            raise HostUnsupportedError(
                "cgroup v2 memory.swap.max (swap accounting) is missing but swap is on: the "
                "memory limit could be evaded through swap; boot with swapaccount=1 or turn "
                "swap off")
        self.exact_peak = has("memory.peak")
        self.has_kill = has("cgroup.kill")
        self.oom_group = OOM_GROUP and has("memory.oom.group")
        self._peak_resettable: bool | None = None  # probed when reuse first asks

    def _enable_controllers(self, directory: str) -> None:
        available = controllers_of(directory)
        missing = [c for c in NEEDED if c not in available]
        if missing:
            raise HostUnsupportedError(
                f"cgroup v2 controller{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"{'are' if len(missing) > 1 else 'is'} not delegated to {directory}; enable "
                f"{'them' if len(missing) > 1 else 'it'} in its parent's cgroup.subtree_control "
                "or set SANDBOX_CGROUP_ROOT to a delegated cgroup")
        enabled = read_text(os.path.join(directory, "cgroup.subtree_control")).split()
        wanted = " ".join(f"+{c}" for c in NEEDED if c not in enabled)
        if not wanted:
            return
        try:
            write_text(os.path.join(directory, "cgroup.subtree_control"), wanted)
        except OSError as exc:
            why = exc.strerror
            if tasks_in(directory):
                why = "it holds processes: cgroup v2 allows controllers only for cgroups "\
                      "without processes"
            raise HostUnsupportedError(
                f"cannot enable {wanted} in {directory}/cgroup.subtree_control ({why});"
                " set SANDBOX_CGROUP_ROOT to a delegated cgroup with no processes"
            ) from None

    def create(self, name: str, memory: int, pids: int) -> BoxCgroup:
        path = os.path.join(self.parent, name)
        os.mkdir(path, 0o755)
        try:
            write_text(os.path.join(path, "memory.max"), str(memory))
            if self.has_swap_max:
                write_text(os.path.join(path, "memory.swap.max"), "0")
            if self.oom_group:
                write_text(os.path.join(path, "memory.oom.group"), "1")
            write_text(os.path.join(path, "pids.max"), str(pids))
            return V2Box(path, self.exact_peak, self.has_kill, memory, pids, self)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            raise

    def reuse_supported(self) -> bool:
        if self._peak_resettable is None:
            self._peak_resettable = _peak_resettable(self.parent)
        return REUSE_TESTED and self._peak_resettable

    def describe(self) -> dict[str, object]:
        return {"version": 2, "mount": self.mount, "own": self.own, "parent": self.parent,
                "controllers": list(NEEDED), "swap_accounting": self.has_swap_max,
                "memory_peak": "exact" if self.exact_peak else "sampled (kernel < 5.19)",
                "cgroup_kill": self.has_kill, "oom_group": self.oom_group}

    def box_dirs(self) -> list[str]:
        return subdirectories(self.parent)

    def destroy(self, directory: str) -> None:
        remove_cgroup(directory, self.has_kill)


__all__ = ["V2Backend", "cgroup2_mounts", "find_mount", "own_cgroup", "parent_base", "why_not"]
