"""The orchestrator of runs: plan, start boxes, watch them, judge each.

Per run, Python forks nothing: `_box.Box` creates the box cgroup and the /box tmpfs, writes
the plan to a pipe and has the small native helper (`_native/boxinit.c`) do the namespace
and mount work; `_pool` keeps the next box of the same shape built ahead of time. While boxes run, `_watch` drains their output (capped) and polls
each cgroup's CPU counter only as often as the remaining budget requires.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType

from . import cgroups
from . import seccomp as seccomp_policy
from ._box import Box
from ._interrupts import deferred
from ._native import helper_path
from ._plan import Plan, make_plan
from ._record import FrozenRecord
from ._slots import state_dir
from ._spawn import pool_depth
from ._watch import watch
from .errors import SandboxError
from .limits import Limits
from .result import Result

TYPE_CHECKING = False  # (typing imports re: the one-shot CLI pays for every module)
if TYPE_CHECKING:
    from typing import Any, ClassVar


def _pool() -> ModuleType | None:
    """The warm-box pool, imported only when it is on: a one-shot run (the CLI) loads none
    of its machinery (threads, queues, atexit)."""
    if not pool_depth():
        return None
    from . import _pool as pool

    return pool


def _release(box: Box, plan: Plan) -> None:
    pool = _pool()
    if pool is None:
        box.close()
        return
    pool.release(box)
    pool.after_run(plan, _new_box)


def run(
    cmd: Sequence[str],
    limits: Limits | Mapping[str, Any] | None = None,
    *,
    stdin: bytes | str | os.PathLike[str] | None = None,
    files: Mapping[str, bytes | str | os.PathLike[str]] | None = None,
    executables: Iterable[str] = (),
    copy_out: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    binds: Iterable[str] = (),
    seccomp: seccomp_policy.Policy | str | None = "default",
    allow_syscalls: Iterable[str] = (),
    hostname: str = "box",
) -> Result:
    """Run `cmd` in a fresh box and judge it. Bad arguments raise SandboxError; whatever the
    program does comes back as a Result."""
    plan = make_plan(cmd, limits, stdin=stdin, files_=files, executables=executables,
                     copy_out=copy_out, env=env, binds=binds, seccomp=seccomp,
                     allow_syscalls=allow_syscalls, hostname=hostname)
    box: Box | None = None
    released = False
    try:
        with deferred():
            box = _acquire(plan)
            box.start()
        watch([box])
        with deferred():  # one section for the finish and the release: fewer handler swaps
            try:
                return box.finish()
            finally:
                released = True
                _release(box, plan)
    finally:
        if box is not None and not released:
            with deferred():
                pool = _pool()
                if pool is None:
                    box.close()
                else:
                    pool.release(box)


class Side(FrozenRecord):
    """One side of an interactive run: what `run` takes, minus stdin (the other side)."""

    cmd: Sequence[str]
    limits: Limits | Mapping[str, Any] | None
    files: Mapping[str, bytes | str | os.PathLike[str]] | None
    executables: Iterable[str]
    copy_out: Iterable[str]
    env: Mapping[str, str] | None
    binds: Iterable[str]
    seccomp: seccomp_policy.Policy | str | None
    allow_syscalls: Iterable[str]
    _fields = ("cmd", "limits", "files", "executables", "copy_out", "env", "binds",
               "seccomp", "allow_syscalls")
    _defaults: ClassVar[dict[str, Any]] = {
        "limits": None, "files": None, "executables": (), "copy_out": (), "env": None,
        "binds": (), "seccomp": "default", "allow_syscalls": ()}

    def __init__(self, cmd: Sequence[str], limits: Limits | Mapping[str, Any] | None = None,
                 files: Mapping[str, bytes | str | os.PathLike[str]] | None = None,
                 executables: Iterable[str] = (), copy_out: Iterable[str] = (),
                 env: Mapping[str, str] | None = None, binds: Iterable[str] = (),
                 seccomp: seccomp_policy.Policy | str | None = "default",
                 allow_syscalls: Iterable[str] = ()) -> None:
        self._init(cmd=cmd, limits=limits, files=files, executables=executables,
                   copy_out=copy_out, env=env, binds=binds, seccomp=seccomp,
                   allow_syscalls=allow_syscalls)


def run_interactive(first: Side, second: Side, *, grace: float = 0.5) -> tuple[Result, Result]:
    """Run two programs at once, each in its own box with its own limits, the first's stdout
    feeding the second's stdin and the second's stdout feeding the first's. When one side
    ends, the other has `grace` seconds to end too, then is killed (verdict TLE, idleness).
    Returns both Results; their `stdout` is empty (it went to the other side)."""
    if not (0 < grace <= 60):
        raise SandboxError(f"grace: expected 0 < seconds <= 60, got {grace!r}")
    plans = [_side_plan(first, "first"), _side_plan(second, "second")]
    boxes: list[Box] = []
    pipes: list[int] = []
    try:
        with deferred():
            boxes.extend(_acquire(plan) for plan in plans)
        a_to_b = os.pipe()
        b_to_a = os.pipe()
        pipes.extend((*a_to_b, *b_to_a))
        with deferred():
            boxes[0].start(stdin=b_to_a[0], stdout=a_to_b[1])
            boxes[1].start(stdin=a_to_b[0], stdout=b_to_a[1])
            # Only the boxes may hold the pipes: a side must see EOF when the other ends.
            for fd in pipes:
                os.close(fd)
            pipes.clear()
        watch(boxes, grace=grace)
        with deferred():
            first_result, second_result = (box.finish(grace) for box in boxes)
            return first_result, second_result
    finally:
        with deferred():
            for fd in pipes:
                with contextlib.suppress(OSError):
                    os.close(fd)
            pool = _pool()
            for box in boxes:
                if pool is None:
                    box.close()
                else:
                    pool.release(box)
            if pool is not None:
                for plan in plans:
                    pool.after_run(plan, _new_box)


def _side_plan(side: Side, name: str) -> Plan:
    if not isinstance(side, Side):
        raise SandboxError(f"{name}: expected sandbox.Side, got {type(side).__name__}")
    return make_plan(side.cmd, side.limits, files_=side.files, executables=side.executables,
                     copy_out=side.copy_out, env=side.env, binds=side.binds,
                     seccomp=side.seccomp, allow_syscalls=side.allow_syscalls)


def _acquire(plan: Plan) -> Box:
    """A prepared box for the plan's shape when one is waiting, else a cold one."""
    pool = _pool()
    return (pool.take(plan) if pool is not None else None) or _new_box(plan)


def _new_box(plan: Plan) -> Box:
    return Box(plan, cgroups.backend(), helper_path(),
               _newroot(os.environ.get("SANDBOX_STATE_DIR", "")))


@functools.lru_cache(maxsize=8)
def _newroot(_state_env: str) -> str:
    """(Checked once per state dir: the checks cost a handful of syscalls per run.)"""
    return os.path.join(state_dir(), "newroot")
