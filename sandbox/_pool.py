"""Warm boxes: each run's box is built before the run asks for it, and torn down after it
has returned.

A prepared box has its uid slot, cgroup, namespaces, root filesystem, /box and payload
process (seccomp filter installed, keeper running) ready; a run only puts its files in /box
and sends the payload its command, limits and stdio ("go"). A box serves exactly one run:
nothing of one run can reach the next, and every measurement (CPU and wall time from "go",
the cgroup's memory and OOM counters) belongs to that run alone.

After a run, a background thread prepares the next box of the same shape (`_plan.shape_key`:
binds, disk size, hostname, seccomp program; judges run many tests of one shape in a row)
and finishes tearing down boxes whose program is gone (`release`), after the run has
returned: while the caller judges the output or waits for the next submission. Most of the
work happens in the helper's processes (namespaces, mounts); the thread mostly waits.

SANDBOX_POOL=N keeps N boxes per shape ready (default 2: one can be in use while the next
is built); SANDBOX_POOL=0 turns warm boxes off, and so does `_spawn.one_shot()` for the
runs of one thread.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable

from ._box import Box
from ._plan import Plan, run_bytes, shape_key
from ._spawn import pool_depth
from .errors import SandboxError

MAX_SHAPES = 4  # shapes kept ready at once; the least recently used goes
MAX_RETIRING = 16  # boxes awaiting teardown before a run waits for them
READY_TIMEOUT = 5.0
# A "go" message must fit the helper's buffer (boxinit.c GO_MAX) and one socket send.
MAX_GO_BYTES = 60000

NewBox = Callable[[Plan], Box]

_lock = threading.Lock()
_ready: OrderedDict[tuple[object, ...], list[Box]] = OrderedDict()
_retiring: list[Box] = []  # run, program reaped, teardown not yet collected
_owner = os.getpid()
_tasks: queue.SimpleQueue[tuple[Plan, NewBox] | None] = queue.SimpleQueue()
_idle = threading.Condition(_lock)
_busy = 0  # tasks queued or in progress
_thread: threading.Thread | None = None
_atexit_registered = False


depth = pool_depth


def take(plan: Plan) -> Box | None:
    """A prepared box for `plan`'s shape, ready for `Box.start`, or None (run cold)."""
    if not depth():
        return None
    go_bytes = run_bytes(plan)
    if len(go_bytes) > MAX_GO_BYTES:
        return None
    with _lock:
        if _owner != os.getpid():
            return None
        boxes = _ready.get(shape_key(plan))
        box = boxes.pop(0) if boxes else None
    if box is None:
        return None
    if not (box.wait_ready(READY_TIMEOUT) and box.still_prepared() and box.fit(plan)):
        # It failed to build, was killed, or cannot take these limits: not the run's
        # problem, which goes cold.
        box.close()
        return None
    box.go_bytes = go_bytes
    return box


def after_run(plan: Plan, new_box: NewBox) -> None:
    """Have the pool thread prepare boxes of `plan`'s shape and collect retired ones."""
    global _busy, _thread, _atexit_registered
    if not depth():
        return
    with _lock:
        if _owner != os.getpid():
            return
        _busy += 1
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_work, name="sandbox-pool", daemon=True)
            _thread.start()
        if not _atexit_registered:
            atexit.register(drain)
            _atexit_registered = True
    _tasks.put((plan, new_box))


def _work() -> None:
    # At normal priority on purpose: a SCHED_IDLE or niced thread starves on a busy machine
    # while holding the GIL, and the thread running the box then waits for it.
    global _busy
    while True:
        task = _tasks.get()
        if task is None:
            return
        try:
            _replenish(*task)
            collect()
        except (OSError, SandboxError):
            pass  # best effort: runs go cold when the host is short of something
        finally:
            with _lock:
                _busy -= 1
                _idle.notify_all()


def _replenish(plan: Plan, new_box: NewBox) -> None:
    key = shape_key(plan)
    while True:
        with _lock:
            if _owner != os.getpid() or len(_ready.get(key, ())) >= depth():
                return
        box = new_box(plan)
        try:
            box.prepare()
        except BaseException:
            box.close()
            raise
        evicted: list[Box] = []
        with _lock:
            _ready.setdefault(key, []).append(box)
            _ready.move_to_end(key)
            while len(_ready) > MAX_SHAPES:
                evicted.extend(_ready.popitem(last=False)[1])
        for old in evicted:
            old.close()


def release(box: Box) -> None:
    """End a box after its run. When init has reported the program gone (every process of
    it reaped), the rest of the teardown (init's exit, the namespaces, the cgroup) happens
    off the run's path, in the pool thread or at exit."""
    if not (depth() and box.program_gone()):
        box.close()
        return
    # Even closing its fds waits for the pool thread (`reap` closes them all): a dozen
    # closes are a twentieth of a millisecond of the run's path.
    with _lock:
        ours = _owner == os.getpid()
        if ours:
            _retiring.append(box)
        backlog = len(_retiring) > MAX_RETIRING
    if not ours:
        box.close()
    elif backlog:
        collect(block=True)


def collect(block: bool = False) -> None:
    """Finish the teardown of retired boxes whose outer has exited (all, with `block`)."""
    with _lock:
        if _owner != os.getpid():
            return
        boxes = list(_retiring)
        _retiring.clear()  # ours to reap now: no other thread touches them meanwhile
    pending: list[Box] = []
    try:
        while boxes:
            box = boxes.pop()
            if not box.reap(block):
                pending.append(box)
    finally:
        with _lock:
            _retiring.extend(pending + boxes)


def settle(timeout: float = 10.0) -> None:
    """Wait until the pool thread is idle and every retired box is torn down."""
    with _lock:
        _idle.wait_for(lambda: _busy == 0, timeout)
    collect(block=True)


def drain() -> None:
    """Tear down every prepared and retired box (at exit; tests use it too)."""
    settle()
    with _lock:
        boxes = _waiting() if _owner == os.getpid() else []
        _ready.clear()
    for box in boxes:
        with contextlib.suppress(OSError):
            box.close()
    # Their cgroups (and those of the runs before) may wait for reuse: not past a drain.
    from .cgroups import reuse

    reuse.drain()


def _waiting() -> list[Box]:
    return [box for shape in _ready.values() for box in shape]


def prepared() -> list[Box]:
    """The boxes waiting for a run: alive by design, not leftovers of any run."""
    with _lock:
        return _waiting() if _owner == os.getpid() else []


def helper_pids() -> set[int]:
    """Processes the pool keeps alive by design (for tests that count processes): every
    process of a prepared box (no program has run in it), and the host-root init and outer
    of a retired box still exiting (its program's processes are all reaped already)."""
    with _lock:
        retiring = list(_retiring) if _owner == os.getpid() else []
    found: set[int] = set()
    for box in prepared():
        found |= box.helper_pids(root_only=False)
    for box in retiring:
        found |= box.helper_pids(root_only=True)
    return found


def _after_fork_in_child() -> None:
    # The parent's boxes are the parent's: forget our copies of their fds without touching
    # the boxes (closing a copy of a control pipe ends nothing while the parent holds its
    # own). The pool thread did not survive the fork, and the locks may have been held.
    global _owner, _lock, _idle, _busy, _thread, _tasks
    _lock = threading.Lock()
    _idle = threading.Condition(_lock)
    _tasks = queue.SimpleQueue()
    _busy = 0
    _thread = None
    for box in [*_waiting(), *_retiring]:
        box.forget()
    _ready.clear()
    _retiring.clear()
    _owner = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)
