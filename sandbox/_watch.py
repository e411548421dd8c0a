"""Watch running boxes: drain their output (capped), enforce CPU and wall limits, and, for
boxes that belong together, end the rest a grace period after the first one ends."""

from __future__ import annotations

import os
import select
import time

from ._box import Box

_NCPU = max(1, len(os.sched_getaffinity(0)))
_READ_CHUNK = 1 << 16
_MAX_SLEEP = 0.5


def watch(boxes: list[Box], grace: float | None = None) -> None:
    poller = select.poll()
    owner: dict[int, tuple[Box, str]] = {}
    open_fds: dict[Box, set[int]] = {box: set() for box in boxes}
    for box in boxes:
        for fd, kind in ((box.out_r, "out"), (box.err_r, "err"), (box.rep_r, "rep")):
            if fd is not None:
                owner[fd] = (box, kind)
                open_fds[box].add(fd)
                poller.register(fd, select.POLLIN)
    peer_deadline: float | None = None
    while any(open_fds.values()):
        now = time.monotonic()
        # Read what is already there before judging by our clock: after a stall of this
        # process (descheduled, SIGSTOPped), a program that ended in time has its "exit" line
        # waiting in the report pipe, and killing it now would invent a TLE.
        _drain(poller, owner, open_fds, 0)
        timeout = _MAX_SLEEP
        if grace is not None and peer_deadline is None and any(not s for s in open_fds.values()):
            peer_deadline = now + grace
        for box, fds in open_fds.items():
            if not fds or box.watched.killed_for is not None or box.program_gone():
                continue
            if peer_deadline is not None and now >= peer_deadline:
                box.kill("peer")
                continue
            timeout = min(timeout, _check_limits(box, now))
        if peer_deadline is not None:
            timeout = min(timeout, max(0.0, peer_deadline - now))
        _drain(poller, owner, open_fds, max(1.0, timeout * 1000))


def _drain(poller: select.poll, owner: dict[int, tuple[Box, str]],
           open_fds: dict[Box, set[int]], timeout_ms: float) -> None:
    """One poll (waiting up to timeout_ms), then a read of each ready fd; with timeout 0,
    repeated while data keeps coming (bounded: a flood is cut by the output limit anyway)."""
    for _round in range(16 if timeout_ms == 0 else 1):
        if not any(open_fds.values()):
            # Everything ended (a quick program: all of it can arrive in the drain at the
            # top of watch's loop). A poll with nothing registered would just sleep out its
            # timeout: half a second added to one warm run in six, here.
            return
        events = poller.poll(timeout_ms)
        if not events:
            return
        for fd, _event in events:
            box, kind = owner[fd]
            if fd not in open_fds[box]:
                continue
            chunk = os.read(fd, _READ_CHUNK)
            if not chunk:
                poller.unregister(fd)
                open_fds[box].discard(fd)
            else:
                _take(box, kind, chunk)
                if kind == "rep" and box.program_gone():
                    # init's last line: the program's processes are all reaped, and the
                    # rest (init's own exit) need not hold the result back.
                    poller.unregister(fd)
                    open_fds[box].discard(fd)


def _check_limits(box: Box, now: float) -> float:
    """Kill the box if over a limit; else how long we may sleep before it could be."""
    watched = box.watched
    lim = box.plan.limits
    # The wall limit is the program's: it counts from init's "start" (same monotonic
    # clock), not from our spawn, so box setup never eats into it.
    if not watched.start and b"\nstart " in b"\n" + watched.report:
        watched.start = int((b"\n" + watched.report).split(b"\nstart ", 1)[1].split()[0]) / 1e9
    wall_deadline = (watched.start or box.started) + lim.effective_wall_time
    if now >= wall_deadline:
        # A stopped init may hold a program that ended long ago, and a host too loaded to run
        # the program eats its wall time: the sandbox's trouble, an internal error (the judge
        # retries), never the program's TLE.
        box.kill("stall" if box.init_stopped() else "starved" if box.starved(now) else "wall")
        return _MAX_SLEEP
    if not watched.cpu_base and b"cpu_base " in watched.report:
        watched.cpu_base = max(0, int(watched.report.split(b"cpu_base ", 1)[1].split()[0]))
    assert box.cgroup is not None
    used = box.cgroup.cpu_ns() - (watched.cpu_base or box.cgroup.cpu_floor)
    cpu_limit_ns = int(lim.cpu_time * 1e9)
    if used >= cpu_limit_ns:
        box.kill("cpu")
        return _MAX_SLEEP
    # The box can burn at most _NCPU seconds of CPU per wall second: sleeping for the
    # remaining budget divided by that never overshoots by more than one short step.
    return min((cpu_limit_ns - used) / 1e9 / _NCPU, wall_deadline - now)


def _take(box: Box, kind: str, chunk: bytes) -> None:
    watched = box.watched
    cap = box.plan.limits.output
    if kind == "rep":
        watched.report += chunk
    elif kind == "out":
        watched.stdout_total += len(chunk)
        if len(watched.stdout) < cap:
            watched.stdout += chunk[: cap - len(watched.stdout)]
        if watched.stdout_total > cap and box.plan.limits.output_overflow == "kill":
            box.kill("output")
    else:
        watched.stderr_total += len(chunk)
        if len(watched.stderr) < cap:
            watched.stderr += chunk[: cap - len(watched.stderr)]
        if watched.stderr_total > cap and box.plan.limits.output_overflow == "kill":
            box.kill("output")
