"""cgroup backends: v2 where the host is unified, v1 otherwise, chosen automatically."""

from __future__ import annotations

import contextlib
import os
import signal
import threading

from ..errors import HostUnsupportedError
from .base import BOX_NAME_RE, Backend, BoxCgroup, JoinSpec, Usage, pid_alive, tasks_in
from .v1 import V1Backend
from .v1 import find_mounts as find_v1_mounts
from .v2 import V2Backend
from .v2 import find_mount as find_v2_mount

__all__ = ["Backend", "BoxCgroup", "JoinSpec", "Usage", "backend", "clean_stale"]

_lock = threading.Lock()
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
    forced = os.environ.get("SANDBOX_CGROUP_VERSION")
    v2 = find_v2_mount() if forced in (None, "", "2") else None
    if v2 is not None:
        return V2Backend(v2)
    v1 = find_v1_mounts() if forced in (None, "", "1") else None
    if v1 is not None:
        return V1Backend(v1)
    raise HostUnsupportedError(
        "no usable cgroup hierarchy: need cgroup v2 with memory, pids and cpu controllers, "
        "or cgroup v1 memory, pids and cpuacct"
    )


def clean_stale(chosen: Backend) -> int:
    """Remove box cgroups whose creating process is dead (a crashed supervisor's)."""
    removed = 0
    for directory in chosen.box_dirs():
        match = BOX_NAME_RE.match(os.path.basename(directory))
        if not match or pid_alive(int(match.group(1))):
            continue
        # Only processes inside our own box cgroups are ever signalled here.
        for pid in tasks_in(directory):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.rmdir(directory)
            removed += 1
    return removed
