"""cgroup v2 (unified): one hierarchy, delegated subtree, clone straight into the box."""

from __future__ import annotations

import contextlib
import os
import time

from ..errors import HostUnsupportedError
from .base import (
    PARENT_NAME,
    Backend,
    BoxCgroup,
    JoinSpec,
    Usage,
    keyed,
    read_text,
    tasks_in,
    write_text,
)

NEEDED = ("memory", "pids", "cpu")


def find_mount() -> str | None:
    """The cgroup2 mount point when it is the unified hierarchy with our controllers."""
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                mount = left.split()[4]
                controllers = read_text(os.path.join(mount, "cgroup.controllers")).split()
                if all(c in controllers for c in NEEDED):
                    return mount
    return None


def _own_cgroup(mount: str) -> str:
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("0::"):
                return os.path.join(mount, line[3:].strip().lstrip("/"))
    return mount


class V2Box(BoxCgroup):
    def __init__(self, path: str) -> None:
        self.path = path
        self._stat_fd = os.open(os.path.join(path, "cpu.stat"), os.O_RDONLY)
        self._has_peak = os.path.exists(os.path.join(path, "memory.peak"))

    @property
    def join(self) -> JoinSpec:
        return JoinSpec(v2_dir=self.path, cpu_file=os.path.join(self.path, "cpu.stat"),
                        cpu_usec=True)

    def cpu_ns(self) -> int:
        head = os.pread(self._stat_fd, 256, 0)
        # First line is "usage_usec N".
        return int(head.split(b"\n", 1)[0].split()[1]) * 1000

    def usage(self) -> Usage:
        events = keyed(read_text(os.path.join(self.path, "memory.events")))
        if self._has_peak:
            peak = int(read_text(os.path.join(self.path, "memory.peak")))
        else:  # kernels before 5.19 have no peak: the best we can say is current usage
            peak = int(read_text(os.path.join(self.path, "memory.current")))
        return Usage(self.cpu_ns(), peak, events.get("oom_kill", 0), events.get("max", 0) > 0)

    def kill(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            write_text(os.path.join(self.path, "cgroup.kill"), "1")

    def remove(self) -> None:
        os.close(self._stat_fd)
        for attempt in range(200):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if attempt == 199:
                    raise
                if attempt == 20:
                    self.kill()
                time.sleep(0.005)


class V2Backend(Backend):
    version = 2

    def __init__(self, mount: str) -> None:
        self.mount = mount
        # v2 delegation rules: a cgroup with processes cannot enable controllers for its
        # children ("no internal processes"), so our parent sits beside our own cgroup and
        # holds no process. SANDBOX_CGROUP_ROOT lets an operator point at a delegated subtree.
        base = os.environ.get("SANDBOX_CGROUP_ROOT") or os.path.dirname(_own_cgroup(mount))
        if not base.startswith(mount):
            base = mount
        self.parent = os.path.join(base, PARENT_NAME)
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.parent, 0o755)
        self._enable_controllers(base)
        self._enable_controllers(self.parent)

    def _enable_controllers(self, directory: str) -> None:
        available = read_text(os.path.join(directory, "cgroup.controllers")).split()
        missing = [c for c in NEEDED if c not in available]
        if missing:
            raise HostUnsupportedError(
                f"cgroup v2 controllers {', '.join(missing)} are not delegated to {directory}"
            )
        enabled = read_text(os.path.join(directory, "cgroup.subtree_control")).split()
        wanted = " ".join(f"+{c}" for c in NEEDED if c not in enabled)
        if wanted:
            try:
                write_text(os.path.join(directory, "cgroup.subtree_control"), wanted)
            except OSError as exc:
                raise HostUnsupportedError(
                    f"cannot enable {wanted} in {directory}/cgroup.subtree_control ({exc.strerror});"
                    " set SANDBOX_CGROUP_ROOT to a delegated cgroup with no processes"
                ) from None

    def create(self, name: str, memory: int, pids: int) -> BoxCgroup:
        path = os.path.join(self.parent, name)
        os.mkdir(path, 0o755)
        try:
            write_text(os.path.join(path, "memory.max"), str(memory))
            swap = os.path.join(path, "memory.swap.max")
            if os.path.exists(swap):
                write_text(swap, "0")
            # One OOM kill ends the whole box, not just the largest process in it.
            write_text(os.path.join(path, "memory.oom.group"), "1")
            write_text(os.path.join(path, "pids.max"), str(pids))
            return V2Box(path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            raise

    def describe(self) -> dict[str, object]:
        return {"version": 2, "mount": self.mount, "parent": self.parent}

    def box_dirs(self) -> list[str]:
        with contextlib.suppress(FileNotFoundError):
            return [os.path.join(self.parent, n) for n in os.listdir(self.parent)
                    if os.path.isdir(os.path.join(self.parent, n))]
        return []


__all__ = ["V2Backend", "find_mount", "tasks_in"]
