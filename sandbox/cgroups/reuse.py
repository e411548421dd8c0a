"""Box cgroups that serve one run after another, only when the next run's numbers are its own.

Making and removing a cgroup per run costs CPU, most of it in kernel workers (a removed
memcg is offlined and freed asynchronously). A box's cgroup is therefore kept after its run
when, and only when, it is provably as good as a fresh one:

- release (the box's teardown, every process of it reaped): no task left in any hierarchy,
  no pid charged, no child cgroup, every counter readable, and little memory still charged.
  A run that left more than RELEASE_MAX of page cache charged (files it was the first to
  read) has its cgroup removed as before: reclaiming would evict those pages from the
  host's cache, and the next runs would read them again and be charged for them, which
  after a fresh cgroup they are not.
- reissue (the next box's claim): memory still charged must be down to SETTLED (a run's
  kernel objects are freed after an RCU grace period, 20-50 ms after its end here; what page
  cache is left is reclaimed once); then the peak is reset, the counters that cannot be reset
  are taken as deltas (`BoxCgroup.rearm`), and the limits are set.

Any doubt (a write refused, a counter unreadable, memory not back down) removes the cgroup
as before. SANDBOX_REUSE=0 keeps every cgroup fresh. A small set of idle cgroups is kept per
process: a forked child forgets its parent's, and the pool's drain and interpreter exit
remove them. They keep their creator's name (box-<pid>-<n>), so other processes' stale sweeps
leave them alone while we live.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import time

from .._reuse import for_this_run
from .base import Backend, BoxCgroup

MAX_IDLE = 8  # idle cgroups kept per process; a cgroup released beyond it is removed
MAX_UNSETTLED = 2.0  # seconds an idle cgroup may take to settle before it is removed
RELEASE_MAX = 2 << 20  # page cache left at release above which the cgroup is removed
RELEASE_MAX_TOTAL = 32 << 20  # all that is left charged (kernel objects too) likewise
SETTLED = 32 << 10  # bytes still charged at reissue up to which it counts as empty

_lock = _thread.allocate_lock()
_idle: list[tuple[BoxCgroup, float, bool]] = []  # (cgroup, released at, reclaimed yet)
_owner = os.getpid()
# The process is exiting: the final drain has run, and a cgroup released after it (a
# long-lived box, like `spawn`'s, closed by a later exit hook or a finalizer) is removed.
_closed = False
_atexit = False
stats = {"reused": 0, "kept": 0, "removed": 0, "unsettled": 0}  # for tests and the bench


def _usable(backend: Backend | None) -> bool:
    return backend is not None and for_this_run() and backend.reuse_supported()


def claim(backend: Backend, name: str, memory: int, pids: int) -> BoxCgroup:
    """A box cgroup with these limits: an idle one that is settled, else a new one."""
    if _usable(backend):
        _drain_at_exit()
        reused = _reissue(backend, memory, pids)
        if reused is not None:
            return reused
    return backend.create(name, memory, pids)


def _reissue(backend: Backend, memory: int, pids: int) -> BoxCgroup | None:
    with _lock:
        if _owner != os.getpid():
            return None
        candidates = [entry for entry in _idle if entry[0].backend is backend]
        for entry in candidates:
            _idle.remove(entry)
    # Oldest first: it has had the longest to settle.
    taken: BoxCgroup | None = None
    keep: list[tuple[BoxCgroup, float, bool]] = []
    for cgroup, released, reclaimed in candidates:
        if taken is not None:
            keep.append((cgroup, released, reclaimed))
            continue
        try:
            charged = cgroup.charged()
            if charged > SETTLED and not reclaimed:
                # Page cache left by the run (what RCU still holds is not reclaimable,
                # and settles by itself): at most RELEASE_MAX of it, once.
                cgroup.reclaim()
                reclaimed = True
                charged = cgroup.charged()
            if charged > SETTLED:
                stats["unsettled"] += 1
                if time.monotonic() - released > MAX_UNSETTLED:
                    raise OSError("still charged long after its run")  # pinned: remove
                keep.append((cgroup, released, reclaimed))
                continue
            if not cgroup.rearm(memory, pids):  # (quiet: checked at release)
                raise OSError("cgroup refused to be reset")
        except OSError:
            _remove(cgroup)
            continue
        stats["reused"] += 1
        taken = cgroup
    with _lock:
        _idle[:0] = keep
    return taken


def release(cgroup: BoxCgroup) -> None:
    """The box's teardown (every process of it reaped): keep the cgroup for a later box if
    it is clean, else remove it as before."""
    if not _usable(cgroup.backend):
        cgroup.remove()
        return
    try:
        # (Kernel objects of the run are freed an RCU grace period later: they may add a
        # few MiB now, which settle by the reissue.)
        keep = (cgroup.quiet() and cgroup.cached() <= RELEASE_MAX
                and cgroup.charged() <= RELEASE_MAX_TOTAL)
    except OSError:
        keep = False
    evicted: list[BoxCgroup] = []
    if keep:
        with _lock:
            keep = _owner == os.getpid() and not _closed
            if keep:
                _idle.append((cgroup, time.monotonic(), False))
                while len(_idle) > MAX_IDLE:
                    evicted.append(_idle.pop(0)[0])
    for old in evicted:
        _remove(old)
    if keep:
        stats["kept"] += 1
    else:
        stats["removed"] += 1
        cgroup.remove()  # (its errors are the teardown's, as without reuse)


def _remove(cgroup: BoxCgroup) -> None:
    stats["removed"] += 1
    with contextlib.suppress(OSError):
        cgroup.remove()


def idle() -> list[BoxCgroup]:
    """The idle cgroups, oldest first."""
    with _lock:
        return [entry[0] for entry in _idle] if _owner == os.getpid() else []


def idle_dirs() -> set[str]:
    """Directories of the idle cgroups (alive by design, for tests that count leftovers)."""
    return {d for cgroup in idle() for d in cgroup.directories()}


def drain() -> None:
    """Remove every idle cgroup (at exit, and when the pool drains)."""
    with _lock:
        entries = list(_idle) if _owner == os.getpid() else []
        _idle.clear()
    for cgroup, _, _ in entries:
        _remove(cgroup)


def _drain_at_exit() -> None:
    """Have the interpreter's exit remove the idle cgroups. Registered when a box first
    claims through here, not at import (a one-shot run must import nothing it does not
    use), and not at the first release: a box closed by an exit hook would register it
    too late to run. Exit hooks run last in first, so boxes whose owners registered their
    hooks earlier (the Python parser's) close after this drain: `_closed` removes them."""
    global _atexit
    with _lock:
        register, _atexit = not _atexit, True
    if register:
        import atexit

        atexit.register(_final_drain)


def _final_drain() -> None:
    global _closed
    with _lock:
        _closed = True
    drain()


def _after_fork_in_child() -> None:
    # The parent's idle cgroups are the parent's to reuse or remove: forget our copies of
    # their file descriptors without touching the cgroups.
    global _lock, _owner
    _lock = _thread.allocate_lock()
    for cgroup, _, _ in _idle:
        cgroup.forget()
    _idle.clear()
    _owner = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)
