"""Turn what a run left behind (the helper's report, the watch, the cgroup) into a Result."""

from __future__ import annotations

import os
import signal

from . import cgroups
from . import seccomp as seccomp_policy
from ._plan import Plan
from .result import PRECEDENCE, Result, Verdict


class Watched:
    """What the supervisor saw of one box while it ran."""

    def __init__(self) -> None:
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.stdout_total = 0
        self.stderr_total = 0
        self.killed_for: str | None = None  # "cpu", "wall", "output", "peer", "stall", "starved"
        self.killed_at: float | None = None
        self.cpu_base = 0  # the box's CPU counter when the payload was released
        self.start = 0.0  # monotonic time the payload was released (init's "start")
        self.report = bytearray()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"


def judge(plan: Plan, watch: Watched, usage: cgroups.Usage, grace: float = 0.0) -> Result:
    lim = plan.limits
    status: int | None = None
    start_ns = end_ns = 0
    cpu_base = usage.cpu_floor  # until init reports its own (setup failed before that)
    cpu_end: int | None = None
    lost_ns = 0  # init died of a SIGKILL nobody on our side sent
    errors: list[str] = []
    exec_errno: int | None = None
    blocked: str | None = None
    for line in watch.report.decode("utf-8", "replace").splitlines():
        key, _, rest = line.partition(" ")
        if key == "exit":
            raw, _, ns = rest.partition(" ")
            status, end_ns = int(raw), int(ns)
        elif key == "start":
            start_ns = int(rest)
        elif key == "cpu_base":
            cpu_base = max(0, int(rest))
        elif key == "cpu_end":
            cpu_end = int(rest)
        elif key == "error":
            errors.append(rest)
        elif key == "exec":
            exec_errno = int(rest)
        elif key == "syscall":
            arch, _, nr = rest.partition(" ")
            blocked = seccomp_policy.syscall_name(int(arch), int(nr))
        elif key == "syscall_hidden":
            blocked = "unknown (withdrawn by a signal before it could be read)"
        elif key == "lost":
            lost_ns = int(rest)
    if lost_ns and not end_ns:
        end_ns = lost_ns
    if start_ns and end_ns:
        wall = (end_ns - start_ns) / 1e9
    elif start_ns and watch.killed_at is not None:
        wall = watch.killed_at - start_ns / 1e9
    else:
        wall = 0.0
    # init reads the counter when the payload ends; after a kill, the cgroup's final count.
    cpu_ns = cpu_end if cpu_end is not None and cpu_end >= 0 else usage.cpu_ns
    cpu = max(0, cpu_ns - cpu_base) / 1e9
    result = Result(Verdict.OK, cpu_time=cpu, wall_time=max(0.0, wall),
                    memory_peak=usage.memory_peak, oom_killed=usage.oom_kills > 0,
                    stdout=bytes(watch.stdout), stderr=bytes(watch.stderr))
    if status is not None:
        if os.WIFEXITED(status):
            result.exit_code = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            result.signal = os.WTERMSIG(status)
    candidates: dict[Verdict, str] = {}
    if errors:
        candidates[Verdict.INTERNAL_ERROR] = "sandbox setup failed: " + errors[0]
    elif watch.killed_for == "stall":
        candidates[Verdict.INTERNAL_ERROR] = (
            "sandbox helper stalled: the box's init was stopped when the wall time limit "
            "passed, so the program's end could not be seen")
    elif watch.killed_for == "starved":
        candidates[Verdict.INTERNAL_ERROR] = (
            "host overloaded: the program spent most of its wall time waiting for a CPU")
    elif status is None and watch.killed_for is None and not (lost_ns and usage.oom_kills):
        # (A lost init with OOM kills counted was the OOM killer's choice: MLE below.)
        candidates[Verdict.INTERNAL_ERROR] = "sandbox helper ended without a report"
    # A program init saw end by itself is judged by init's clocks and the cgroup's counter
    # alone: a kill we decided on after that (our own clock late after a stall) came too late
    # to mean anything, and must not invent a TLE.
    killed_for = watch.killed_for if status is None else None
    if killed_for == "cpu" or cpu > lim.cpu_time:
        candidates[Verdict.TIME_LIMIT] = f"cpu time limit {lim.cpu_time:.3f} s exceeded"
    elif killed_for == "wall" or wall > lim.effective_wall_time:
        candidates[Verdict.TIME_LIMIT] = (
            f"wall time limit {lim.effective_wall_time:.3f} s exceeded")
    elif killed_for == "peer":
        candidates[Verdict.TIME_LIMIT] = (
            f"idleness: still running {grace:.3f} s after the other side ended")
    if usage.oom_kills > 0:
        candidates[Verdict.MEMORY_LIMIT] = (
            f"memory limit {size_text(lim.memory)} exceeded (killed by the kernel OOM killer)")
    elif usage.memory_limit_hit and status is not None and status != 0 and blocked is None:
        candidates[Verdict.MEMORY_LIMIT] = f"memory limit {size_text(lim.memory)} reached"
    if watch.killed_for == "output":
        stream = "stdout" if watch.stdout_total > lim.output else "stderr"
        candidates[Verdict.OUTPUT_LIMIT] = (
            f"output limit {size_text(lim.output)} exceeded on {stream}")
    elif status is not None and watch.stdout_total > lim.output:
        # output_overflow "truncate": the program ran on past the cap and ended by itself.
        candidates[Verdict.OUTPUT_LIMIT] = (
            f"output limit {size_text(lim.output)} exceeded on stdout (the rest was dropped)")
    elif result.signal == signal.SIGXFSZ:
        candidates[Verdict.OUTPUT_LIMIT] = f"file size limit {size_text(lim.file_size)} exceeded"
    if blocked is not None:
        result.blocked_syscall = blocked
        result.signal = None
        candidates[Verdict.SECURITY_VIOLATION] = f"blocked syscall: {blocked}"
    if exec_errno is not None:
        result.exit_code = 127
        candidates[Verdict.RUNTIME_ERROR] = (
            f"cannot execute {plan.argv[0]!r}: {os.strerror(exec_errno)}")
    elif result.signal is not None:
        candidates[Verdict.RUNTIME_ERROR] = f"killed by {_signal_name(result.signal)}"
    elif result.exit_code:
        candidates[Verdict.RUNTIME_ERROR] = f"exited with code {result.exit_code}"
    for verdict in PRECEDENCE:
        if verdict in candidates:
            result.verdict = verdict
            result.message = candidates[verdict]
            break
    return result
