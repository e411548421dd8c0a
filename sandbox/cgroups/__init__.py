"""cgroup backends: v2 where the host is unified, v1 otherwise, chosen automatically."""

from __future__ import annotations

import _thread  # (threading's Lock is this; threading itself costs a one-shot run)
import os

from ..errors import HostUnsupportedError, SandboxError
from .base import Backend, BoxCgroup, JoinSpec, Usage, box_name_creator, creator_alive

__all__ = ["Backend", "BoxCgroup", "JoinSpec", "Usage", "backend", "clean_stale"]

_lock = _thread.allocate_lock()
_backend: Backend | None = None


def backend() -> Backend:
    """The process-wide backend; SANDBOX_CGROUP_VERSION=1|2 forces one (for tests)."""
    global _backend
    with _lock:
        if _backend is None:
            _backend = _choose()
            clean_stale(_backend)
        return _backend


def _choose() -> Backend:
    # (Imported here: a v2 host never loads v1's module; a v1 host needs v2's to look.)
    from .v2 import V2Backend
    from .v2 import find_mount as find_v2_mount
    from .v2 import why_not as v2_why

    forced = os.environ.get("SANDBOX_CGROUP_VERSION", "")
    if forced not in ("", "1", "2"):
        raise SandboxError(f"SANDBOX_CGROUP_VERSION must be 1 or 2, got {forced!r}")
    v2 = find_v2_mount() if forced in ("", "2") else None
    if v2 is not None:
        return V2Backend(v2)
    from .v1 import V1Backend
    from .v1 import find_mounts as find_v1_mounts

    v1 = find_v1_mounts() if forced in ("", "1") else None
    if v1 is not None:
        return V1Backend(v1)
    if forced == "2":
        raise HostUnsupportedError(f"cgroup v2 asked for (SANDBOX_CGROUP_VERSION=2) but {v2_why()}")
    if forced == "1":
        raise HostUnsupportedError(
            f"cgroup v1 asked for (SANDBOX_CGROUP_VERSION=1) but {_v1_why()}")
    raise HostUnsupportedError(f"no usable cgroup hierarchy: {v2_why()}; and {_v1_why()}")


def _v1_why() -> str:
    from .v1 import CONTROLLERS as V1_CONTROLLERS

    found: set[str] = set()
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.partition(" - ")[2].split()
            if len(fields) >= 3 and fields[0] == "cgroup":
                found.update(fields[2].split(","))
    missing = [c for c in V1_CONTROLLERS if c not in found]
    return (f"no cgroup v1 hierarchy is mounted for the {', '.join(missing)} "
            f"controller{'s' if len(missing) > 1 else ''}")


def clean_stale(chosen: Backend) -> int:
    """Remove box cgroups whose creating process is dead (a crashed supervisor's), killing
    what is left in them. Only our own box cgroups are ever touched."""
    removed = 0
    for directory in chosen.box_dirs():
        creator = box_name_creator(os.path.basename(directory))
        if creator is None:
            continue
        try:
            created = os.stat(directory).st_mtime
        except FileNotFoundError:
            continue
        if creator_alive(creator, created):
            continue
        try:
            chosen.destroy(directory)
        except OSError as exc:
            # A leftover must never stop new runs; it is retried by the next process.
            import warnings

            warnings.warn(f"sandbox: cannot remove stale cgroup {directory}: {exc}",
                          RuntimeWarning, stacklevel=2)
        else:
            removed += 1
    return removed
