"""The one linear orchestrator of a run: plan, start the native helper, watch, measure, judge.

Per run, Python forks nothing: it creates the box cgroup and the /box tmpfs, writes the plan
to a pipe and posix_spawns the small native helper (`_native/boxinit.c`), which does the
namespace and mount work. While the box runs, this process drains stdout and stderr (capped),
and polls the cgroup's CPU counter only as often as the remaining budget requires.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import cgroups, files, rootfs
from . import seccomp as seccomp_policy
from ._native import helper_path
from ._slots import host_uid, slot, state_dir
from ._syscalls import detached_tmpfs
from .errors import SandboxError
from .limits import Limits
from .result import PRECEDENCE, Result, Verdict

DEFAULT_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/box", "LANG": "C.UTF-8"}
_RLIMIT = {"cpu": 0, "fsize": 1, "stack": 3, "core": 4, "nofile": 7, "memlock": 8, "msgqueue": 12}
_sequence = itertools.count()
_NCPU = max(1, len(os.sched_getaffinity(0)))
_READ_CHUNK = 1 << 16


@dataclass
class _Plan:
    argv: list[str]
    limits: Limits
    env: dict[str, str]
    binds: tuple[str, ...]
    bpf: bytes | None
    files: Mapping[str, object]
    executables: set[str]
    copy_out: list[str]
    stdin: Any
    hostname: str = "box"


@dataclass
class _Watch:
    """What the watch loop saw."""

    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    stdout_total: int = 0
    stderr_total: int = 0
    killed_for: str | None = None  # "cpu", "wall", "output"
    killed_at: float | None = None
    cpu_base: int = 0  # the box's CPU counter when the payload was released
    report: list[str] = field(default_factory=list)


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
    plan = _plan(cmd, limits, stdin, files, executables, copy_out, env, binds, seccomp,
                 allow_syscalls, hostname)
    backend = cgroups.backend()
    helper = helper_path()
    newroot = os.path.join(state_dir(), "newroot")
    with slot() as number:
        uid = host_uid(number)
        name = f"box-{os.getpid()}-{next(_sequence)}"
        # +1: the box's init lives in the cgroup too, and is not the program's to count.
        box_cgroup = backend.create(name, plan.limits.memory, plan.limits.pids + 1)
        try:
            return _run_in(plan, box_cgroup, helper, newroot, uid)
        finally:
            box_cgroup.remove()


def _plan(cmd: Sequence[str], limits: Limits | Mapping[str, Any] | None, stdin: Any,
          files_: Mapping[str, Any] | None, executables: Iterable[str], copy_out: Iterable[str],
          env: Mapping[str, str] | None, binds: Iterable[str],
          seccomp: seccomp_policy.Policy | str | None, allow_syscalls: Iterable[str],
          hostname: str) -> _Plan:
    if isinstance(cmd, (str, bytes)) or not cmd:
        raise SandboxError("command: expected a non-empty list of strings")
    argv = list(cmd)
    for arg in argv:
        if not isinstance(arg, str) or "\x00" in arg:
            raise SandboxError(f"command: bad argument {arg!r}")
    lim = Limits.coerce(limits)
    full_env = dict(DEFAULT_ENV)
    for key, value in (env or {}).items():
        if not isinstance(key, str) or not key or "=" in key or "\x00" in key:
            raise SandboxError(f"env: bad variable name {key!r}")
        if not isinstance(value, str) or "\x00" in value:
            raise SandboxError(f"env: bad value for {key}")
        full_env[key] = value
    file_map = dict(files_ or {})
    for box_name in file_map:
        files.box_relative(box_name, "files")
    outs = list(copy_out)
    for box_name in outs:
        files.box_relative(box_name, "copy_out")
    policy = seccomp_policy.Policy.coerce(seccomp, allow_syscalls)
    bpf = seccomp_policy.compile_policy(policy) if policy else None
    if stdin is not None and not isinstance(stdin, (bytes, bytearray, memoryview, str,
                                                    os.PathLike)):
        raise SandboxError(f"stdin: expected bytes or a file path, got {type(stdin).__name__}")
    if isinstance(stdin, (str, os.PathLike)) and not os.access(stdin, os.R_OK):
        raise SandboxError(f"stdin: cannot read {os.fspath(stdin)}")
    if not hostname.isascii() or not hostname.replace("-", "").isalnum() or len(hostname) > 63:
        raise SandboxError(f"hostname: bad hostname {hostname!r}")
    return _Plan(argv, lim, full_env, rootfs.validate_binds(binds), bpf, file_map,
                 set(executables), outs, stdin, hostname)


def _config(plan: _Plan, uid: int, join: cgroups.JoinSpec, newroot: str) -> bytes:
    lim = plan.limits
    records: list[tuple[str, str]] = [
        ("ppid", str(os.getpid())), ("uid", str(uid)), ("gid", str(uid)),
        ("newroot", newroot), ("hostname", plan.hostname), ("cwd", "/box"), ("boxfd", "5"),
    ]
    if os.environ.get("SANDBOX_TRACE"):
        records.append(("trace", "1"))
    records += [("cgtasks", path) for path in join.v1_tasks]
    if join.v2_dir:
        records.append(("cg2", join.v2_dir))
    if join.cpu_file:
        records += [("cpufile", join.cpu_file), ("cpuusec", "1" if join.cpu_usec else "0")]
    records += [("op", "\x01".join(op)) for op in rootfs.run_ops(plan.binds, lim.disk)]
    records += [("arg", a) for a in plan.argv]
    records += [("env", f"{k}={v}") for k, v in plan.env.items()]
    # RLIMIT_CPU is only a backstop a second past the limit (the cgroup counter is the real
    # one, summed over all threads); at the hard limit the kernel sends SIGKILL, which a
    # program ignoring SIGXCPU cannot escape.
    cpu_backstop = int(lim.cpu_time) + 2
    rlimits = {"cpu": (cpu_backstop, cpu_backstop), "fsize": (lim.file_size, lim.file_size),
               "stack": (lim.stack, lim.stack), "core": (0, 0),
               "nofile": (lim.open_files, lim.open_files), "memlock": (0, 0),
               "msgqueue": (0, 0)}
    records += [("rlimit", f"{_RLIMIT[k]} {s} {h}") for k, (s, h) in rlimits.items()]
    if plan.bpf is not None:
        records.append(("seccomp", plan.bpf.hex()))
    out = bytearray()
    for key, value in records:
        if "\x00" in value:
            raise SandboxError(f"{key}: NUL byte in {value!r}")
        out += key.encode() + b"\0" + value.encode() + b"\0"
    return bytes(out)


def _stdin_fd(stdin: Any) -> int:
    """A sealed memfd with the input: seekable, and unchangeable from inside the box."""
    if stdin is None:
        return os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        if isinstance(stdin, (bytes, bytearray, memoryview)):
            view = memoryview(stdin)
            while view:
                view = view[os.write(fd, view):]
        else:
            with open(stdin, "rb") as src:
                size = os.fstat(src.fileno()).st_size
                offset = 0
                while offset < size:
                    sent = os.sendfile(fd, src.fileno(), None, size - offset)
                    if sent == 0:
                        break
                    offset += sent
        import fcntl

        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW |
                    fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
        os.lseek(fd, 0, os.SEEK_SET)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _high(fd: int) -> int:
    """Move fd above 9 so the helper's dup2 plan (0-5) never clobbers a source."""
    if fd >= 10:
        return fd
    import fcntl

    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def _run_in(plan: _Plan, box: cgroups.BoxCgroup, helper: str, newroot: str, uid: int) -> Result:
    lim = plan.limits
    opened: list[int] = []

    def keep(fd: int) -> int:
        fd = _high(fd)
        opened.append(fd)
        return fd

    hpid = 0
    try:
        mount_fd = keep(detached_tmpfs({"size": str(lim.disk),
                                        "nr_inodes": str(rootfs.inode_cap(lim.disk)),
                                        "mode": "0755", "uid": str(uid), "gid": str(uid)}))
        root_fd = keep(os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=mount_fd))
        if plan.files:
            files.copy_in(root_fd, plan.files, plan.executables, uid, uid)
        stdin_fd = keep(_stdin_fd(plan.stdin))
        out_r, out_w = (keep(fd) for fd in os.pipe())
        err_r, err_w = (keep(fd) for fd in os.pipe())
        rep_r, rep_w = (keep(fd) for fd in os.pipe())
        cfg_r, cfg_w = (keep(fd) for fd in os.pipe())
        config = _config(plan, uid, box.join, newroot)
        import fcntl

        if len(config) > 60000:
            fcntl.fcntl(cfg_w, fcntl.F_SETPIPE_SZ, min(len(config) + 4096, 1 << 20))
        os.write(cfg_w, config)
        os.close(cfg_w)
        opened.remove(cfg_w)
        started = time.monotonic()
        hpid = os.posix_spawn(helper, [helper], {}, file_actions=[
            (os.POSIX_SPAWN_DUP2, stdin_fd, 0), (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, err_w, 2), (os.POSIX_SPAWN_DUP2, cfg_r, 3),
            (os.POSIX_SPAWN_DUP2, rep_w, 4), (os.POSIX_SPAWN_DUP2, mount_fd, 5),
        ])
        for fd in (stdin_fd, out_w, err_w, cfg_r, rep_w):
            os.close(fd)
            opened.remove(fd)
        watch = _watch(hpid, box, lim, started, out_r, err_r, rep_r)
        _reap(hpid)
        hpid = 0
        usage = box.usage()
        result = _judge(plan, watch, usage)
        for name in plan.copy_out:
            try:
                result.files[name] = files.copy_out(root_fd, name, lim.file_size)
            except files.CopyOutError as exc:
                result.message = f"{result.message}; {exc}" if result.message else str(exc)
        return result
    finally:
        if hpid:
            # Interrupted (KeyboardInterrupt, an exception): end the box before cleanup.
            with contextlib.suppress(ProcessLookupError):
                os.kill(hpid, signal.SIGKILL)
            _reap(hpid)
        for fd in opened:
            with contextlib.suppress(OSError):
                os.close(fd)


def _reap(pid: int) -> None:
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def _watch(hpid: int, box: cgroups.BoxCgroup, lim: Limits, started: float, out_r: int,
           err_r: int, rep_r: int) -> _Watch:
    watch = _Watch()
    cpu_limit_ns = int(lim.cpu_time * 1e9)
    wall_deadline = started + lim.effective_wall_time
    poller = select.poll()
    open_fds = {out_r, err_r, rep_r}
    for fd in open_fds:
        poller.register(fd, select.POLLIN)
    report_buf = bytearray()

    def kill(reason: str) -> None:
        if watch.killed_for is None:
            watch.killed_for = reason
            watch.killed_at = time.monotonic()
            # The helper SIGKILLs the box's init; the pid namespace takes every process with
            # it, stopped ones included.
            with contextlib.suppress(ProcessLookupError):
                os.kill(hpid, signal.SIGTERM)

    while open_fds:
        timeout_ms: float | None = None
        if watch.killed_for is None:
            now = time.monotonic()
            if now >= wall_deadline:
                kill("wall")
                continue
            if not watch.cpu_base and b"cpu_base " in report_buf:
                watch.cpu_base = max(0, int(report_buf.split(b"cpu_base ", 1)[1].split()[0]))
            used = box.cpu_ns() - watch.cpu_base
            if used >= cpu_limit_ns:
                kill("cpu")
                continue
            # The box can burn at most _NCPU seconds of CPU per wall second: sleeping for the
            # remaining budget divided by that can never overshoot by more than one step.
            cpu_wait = (cpu_limit_ns - used) / 1e9 / _NCPU
            timeout_ms = max(1.0, min(cpu_wait, wall_deadline - now, 0.5) * 1000)
        for fd, _event in poller.poll(timeout_ms):
            chunk = os.read(fd, _READ_CHUNK)
            if not chunk:
                poller.unregister(fd)
                open_fds.discard(fd)
                continue
            if fd == rep_r:
                report_buf += chunk
            elif fd == out_r:
                watch.stdout_total += len(chunk)
                room = lim.output - len(watch.stdout)
                if room > 0:
                    watch.stdout += chunk[:room]
                if watch.stdout_total > lim.output:
                    kill("output")
            else:
                watch.stderr_total += len(chunk)
                room = lim.output - len(watch.stderr)
                if room > 0:
                    watch.stderr += chunk[:room]
                if watch.stderr_total > lim.output:
                    kill("output")
    watch.report = report_buf.decode("utf-8", "replace").splitlines()
    return watch


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _judge(plan: _Plan, watch: _Watch, usage: cgroups.Usage) -> Result:
    lim = plan.limits
    status: int | None = None
    start_ns = end_ns = cpu_base = 0
    cpu_end: int | None = None
    errors: list[str] = []
    exec_errno: int | None = None
    blocked: str | None = None
    for line in watch.report:
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
    elif status is None and watch.killed_for is None:
        candidates[Verdict.INTERNAL_ERROR] = "sandbox helper ended without a report"
    if watch.killed_for == "cpu" or cpu > lim.cpu_time:
        candidates[Verdict.TIME_LIMIT] = f"cpu time limit {lim.cpu_time:.3f} s exceeded"
    elif watch.killed_for == "wall" or wall > lim.effective_wall_time:
        candidates[Verdict.TIME_LIMIT] = (
            f"wall time limit {lim.effective_wall_time:.3f} s exceeded")
    if usage.oom_kills > 0:
        candidates[Verdict.MEMORY_LIMIT] = (
            f"memory limit {_size(lim.memory)} exceeded (killed by the kernel OOM killer)")
    elif usage.memory_limit_hit and status is not None and status != 0 and blocked is None:
        candidates[Verdict.MEMORY_LIMIT] = f"memory limit {_size(lim.memory)} reached"
    if watch.killed_for == "output":
        stream = "stdout" if watch.stdout_total > lim.output else "stderr"
        candidates[Verdict.OUTPUT_LIMIT] = f"output limit {_size(lim.output)} exceeded on {stream}"
    elif result.signal == signal.SIGXFSZ:
        candidates[Verdict.OUTPUT_LIMIT] = f"file size limit {_size(lim.file_size)} exceeded"
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


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"
