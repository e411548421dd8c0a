"""Validate a run's arguments into a Plan, and encode a Plan for the native helper."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence

from . import _exec_paths, cgroups, files, rootfs
from . import seccomp as seccomp_policy
from .errors import SandboxError
from .limits import Limits

TYPE_CHECKING = False  # (typing imports re: the one-shot CLI pays for every module)
if TYPE_CHECKING:
    from typing import Any

MAX_EXECUTABLES = 200  # each is a Landlock rule, and the helper takes 256 "exec" records
DEFAULT_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/box", "LANG": "C.UTF-8"}
_RLIMIT = {"cpu": 0, "fsize": 1, "stack": 3, "core": 4, "nofile": 7, "memlock": 8, "msgqueue": 12}


@functools.lru_cache(maxsize=1)
def _nr_open() -> int:
    try:
        with open("/proc/sys/fs/nr_open") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 1 << 20


class Plan:
    """One run, checked: what the box is built with and what runs in it."""

    def __init__(self, argv: list[str], limits: Limits, env: dict[str, str],
                 binds: tuple[str, ...], bpf: bytes | None, files: Mapping[str, object],
                 executables: set[str], copy_out: list[str], stdin: Any,
                 hostname: str = "box") -> None:
        self.argv = argv
        self.limits = limits
        self.env = env
        self.binds = binds
        self.bpf = bpf
        self.files = files
        self.executables = executables
        self.copy_out = copy_out
        self.stdin = stdin
        self.hostname = hostname


def make_plan(cmd: Sequence[str], limits: Limits | Mapping[str, Any] | None, *, stdin: Any = None,
              files_: Mapping[str, Any] | None = None, executables: Iterable[str] = (),
              copy_out: Iterable[str] = (), env: Mapping[str, str] | None = None,
              binds: Iterable[str] = (), seccomp: seccomp_policy.Policy | str | None = "default",
              allow_syscalls: Iterable[str] = (), hostname: str = "box") -> Plan:
    """Check every argument before anything is created: bad input leaves nothing behind."""
    if isinstance(cmd, (str, bytes)) or not cmd:
        raise SandboxError("command: expected a non-empty list of strings")
    argv = list(cmd)
    for arg in argv:
        if not isinstance(arg, str) or "\x00" in arg:
            raise SandboxError(f"command: bad argument {arg!r}")
    lim = Limits.coerce(limits)
    if lim.open_files > _nr_open():
        raise SandboxError(f"open_files: at most {_nr_open()} on this host (fs.nr_open)")
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
    if isinstance(stdin, (str, os.PathLike)) and not (
            os.path.isfile(stdin) and os.access(stdin, os.R_OK)):
        raise SandboxError(f"stdin: cannot read {os.fspath(stdin)} (need a readable file)")
    if not hostname.isascii() or not hostname.replace("-", "").isalnum() or len(hostname) > 63:
        raise SandboxError(f"hostname: bad hostname {hostname!r}")
    # Given executables, and files copied from executable host files: both are copied in
    # mode 0555 and are the only files of /box the program may execute (_exec_paths).
    runnable = set(executables) | {name for name, content in file_map.items()
                                   if files.host_executable(content)}
    if len(runnable) > MAX_EXECUTABLES:
        raise SandboxError(f"executables: at most {MAX_EXECUTABLES} files may be executable "
                           f"(got {len(runnable)}); bind a directory instead")
    return Plan(argv, lim, full_env, rootfs.validate_binds(binds), bpf, file_map,
                runnable, outs, stdin, hostname)


def shape_key(plan: Plan) -> tuple[object, ...]:
    """What a prepared box is built for (its root, hostname and seccomp filter); everything
    else of a run (command, env, rlimits, cgroup limits, files, stdio) is given at "go"."""
    return (plan.binds, plan.limits.disk, plan.hostname, plan.bpf)


def config_bytes(plan: Plan, uid: int, keeper: int, join: cgroups.JoinSpec, newroot: str,
                 parent: int, prepared: bool = False, netfd: int = -1) -> bytes:
    """The helper's configuration: records "KEY\\0VALUE\\0" (see boxinit.c). A cold box gets
    everything; a prepared one the box's shape, and `run_bytes` later at "go"."""
    records: list[tuple[str, str]] = [
        ("ppid", str(parent)), ("uid", str(uid)), ("gid", str(uid)),
        ("newroot", newroot), ("hostname", plan.hostname), ("cwd", "/box"),
    ]
    records.append(("boxfd", "5"))
    if netfd >= 0:
        records.append(("netfd", str(netfd)))
    if prepared:
        records.append(("prepared", "1"))
    if os.environ.get("SANDBOX_TRACE"):
        records.append(("trace", "1"))
    if _exec_paths.enforced():
        records.append(("memfdnx", "1"))
    records += [("cgtasks", path) for path in join.v1_tasks]
    if join.v2_dir:
        records.append(("cg2", join.v2_dir))
    if join.cpu_file:
        records += [("cpufile", join.cpu_file), ("cpuusec", "1" if join.cpu_usec else "0")]
    records += [("op", "\x01".join(op)) for op in rootfs.run_ops(plan.binds, plan.limits.disk)]
    # RLIMIT_CORE 1, not 0: the kernel ignores 0 for a piped core_pattern (apport,
    # systemd-coredump) and would run the host's handler, as host root, on a box crash.
    # Set before the seccomp filter, which forbids changing it.
    records.append(("rlimit", f"{_RLIMIT['core']} 1 1"))
    if not prepared:
        records += _run_records(plan)
    if plan.bpf is not None:
        records.append(("seccomp", plan.bpf.hex()))
        records.append(("keeper", str(keeper)))
    return _encode(records)


def run_bytes(plan: Plan) -> bytes:
    """A run's own records, sent to a prepared box at "go"."""
    return _encode(_run_records(plan))


def _run_records(plan: Plan) -> list[tuple[str, str]]:
    lim = plan.limits
    records = [("arg", a) for a in plan.argv]
    records += [("env", f"{k}={v}") for k, v in plan.env.items()]
    # RLIMIT_CPU is only a backstop past the limit (the cgroup counter is the real one,
    # summed over all threads); at the hard limit the kernel sends SIGKILL, which a program
    # ignoring SIGXCPU cannot escape.
    cpu_backstop = int(lim.cpu_time) + 2
    rlimits = {"cpu": (cpu_backstop, cpu_backstop), "fsize": (lim.file_size, lim.file_size),
               "stack": (lim.stack, lim.stack), "nofile": (lim.open_files, lim.open_files),
               "memlock": (0, 0), "msgqueue": (0, 0)}
    records += [("rlimit", f"{_RLIMIT[k]} {s} {h}") for k, (s, h) in rlimits.items()]
    if _exec_paths.enforced():
        records += [("exec", path) for path in
                    _exec_paths.allowed(plan.binds, plan.files, plan.executables)]
    return records


def _encode(records: list[tuple[str, str]]) -> bytes:
    out = bytearray()
    for key, value in records:
        if "\x00" in value:
            raise SandboxError(f"{key}: NUL byte in {value!r}")
        out += key.encode() + b"\0" + value.encode() + b"\0"
    return bytes(out)
