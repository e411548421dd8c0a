"""Helpers for the hostile suite: building and running the attack programs, and judging them.

Every hostile program lives in `programs/` (C compiled on the host with gcc, or Python run
by the box's /usr/bin/python3). A program prints a line starting with "ESCAPED" whenever an
attack that must fail succeeded, so every test also asserts that word never appears.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import sandbox
from sandbox import Result, Verdict

PROGRAMS = Path(__file__).parent / "programs"
# The real interpreter: the pyenv shim on PATH is a bash script that needs $HOME's pyenv.
PYTHON = "/usr/bin/python3"
# Tight defaults, so that a limit a test does not set still ends a runaway quickly.
BASE_LIMITS: dict[str, Any] = {"cpu_time": 2.0, "memory": "64M", "pids": 32, "output": "1M",
                               "file_size": "8M", "disk": "16M"}
MIB = 1 << 20


class Hostile:
    """Builds hostile programs once per session and runs them in a fresh box each time."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self._built: dict[str, Path] = {}
        self._lock = threading.Lock()

    def binary_path(self, name: str) -> Path:
        """Compile programs/<name>.c once (dynamic, unless the source asks for
        "/* build: -static */"); return the binary's path."""
        with self._lock:
            if name not in self._built:
                out = self.build_dir / name
                source = PROGRAMS / f"{name}.c"
                extra = ["-static"] if "/* build: -static */" in source.read_text() else []
                proc = subprocess.run(
                    ["gcc", "-O1", "-pthread", "-Wall", "-Wno-unused-result", *extra,
                     f"-I{PROGRAMS}", "-o", str(out), str(source)],
                    capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    raise RuntimeError(f"gcc {source.name} failed:\n{proc.stderr}")
                self._built[name] = out
            return self._built[name]

    def binary(self, name: str) -> bytes:
        return self.binary_path(name).read_bytes()

    def c(self, name: str, *args: str, limits: Mapping[str, Any] | None = None,
          files: Mapping[str, bytes] | None = None, **kwargs: Any) -> Result:
        """Run the C program `name` as /box/prog with `args`."""
        all_files = {"prog": self.binary(name), **(files or {})}
        return sandbox.run(["./prog", *args], merged(limits), files=all_files,
                           executables=["prog"], **kwargs)

    def py(self, name: str, *args: str, limits: Mapping[str, Any] | None = None,
           files: Mapping[str, bytes] | None = None, **kwargs: Any) -> Result:
        """Run programs/<name>.py as /box/prog.py with `args`."""
        source = (PROGRAMS / f"{name}.py").read_bytes()
        all_files = {"prog.py": source, **(files or {})}
        return sandbox.run([PYTHON, "prog.py", *args], merged(limits), files=all_files,
                           **kwargs)


def merged(limits: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**BASE_LIMITS, **(limits or {})}


def describe(result: Result) -> str:
    """A compact account of a result for assertion messages."""
    return (f"verdict={result.verdict} message={result.message!r} exit={result.exit_code} "
            f"signal={result.signal} blocked={result.blocked_syscall} cpu={result.cpu_time:.3f} "
            f"wall={result.wall_time:.3f} peak={result.memory_peak} oom={result.oom_killed}\n"
            f"stdout={result.stdout[:600]!r}\nstderr={result.stderr[:600]!r}")


def assert_no_escape(result: Result) -> None:
    assert b"ESCAPED" not in result.stdout + result.stderr, describe(result)


def assert_verdict(result: Result, verdict: Verdict) -> None:
    assert result.verdict is verdict, describe(result)
    assert_no_escape(result)


def assert_sv(result: Result, syscall: str) -> None:
    """The run ended because of `syscall`, named in the result and in the message."""
    assert_verdict(result, Verdict.SECURITY_VIOLATION)
    assert result.blocked_syscall == syscall, describe(result)
    assert result.message == f"blocked syscall: {syscall}", describe(result)


def lines(result: Result) -> list[str]:
    return result.stdout.decode("utf-8", "replace").splitlines()


# ---- host-side observation -------------------------------------------------------------


def held_box_uids() -> set[int]:
    """Host uids of the sandbox slots this process holds: any process running with one of
    them after a run has returned is a leftover of one of our boxes."""
    from sandbox import _slots

    return {uid for number in _slots._held
            for uid in (_slots.host_uid(number), _slots.keeper_uid(number))}


def _status_fields(pid: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _zygotes(table: dict[int, dict[str, str]]) -> set[int]:
    """The sandbox's own long-lived helper (a zygote that forks each run's outer process),
    if this version of the sandbox keeps one: not a leftover of any run."""
    found = set()
    try:
        from sandbox import _spawn  # type: ignore[attr-defined]

        found.add(int(_spawn.zygote_pid()))
    except (ImportError, AttributeError):
        pass
    # Any sandbox zygote: ours, or one of a server that another module's fixture keeps
    # running for the session (a web process or Celery worker that ran boxes).
    for pid in table:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
            if argv[1:2] == [b"--serve"] and b"boxinit" in argv[0]:
                found.add(pid)
    return found - {0}


def leftover_processes() -> list[str]:
    """Processes that a finished box left on the host: running as one of our box uids, or
    a descendant of ours (a helper, a box's init) still there after its run returned."""
    # A box the pool thread is preparing right now has processes that helper_pids() does not
    # list yet (CI saw one on a loaded machine): let the thread finish first.
    from sandbox import _pool

    _pool.settle()
    uids = held_box_uids()
    me = os.getpid()
    table = {int(pid): fields for pid in filter(str.isdigit, os.listdir("/proc"))
             if (fields := _status_fields(pid))}
    zygotes = _zygotes(table)
    # Warm boxes waiting for a run, and the host-root helpers of a box whose program is
    # gone but whose namespaces are still being torn down: the pool's, not a program's.
    pooled = _pool.helper_pids()

    def descends_from_us(pid: int) -> bool:
        seen = set()
        while pid > 1 and pid not in seen:
            seen.add(pid)
            pid = int(table.get(pid, {}).get("PPid", "0"))
            if pid == me:
                return True
        return False

    found = []
    for pid, fields in table.items():
        if pid in zygotes or pid in pooled:
            continue
        real_uid = int(fields.get("Uid", "-1 ").split()[0])
        # Our descendants count only if they are the sandbox's (its helper runs as
        # "boxinit-<hash>"): servers that other test modules' fixtures keep running for the
        # session (redis-server, a Celery worker) are not leftovers of a box.
        ours = descends_from_us(pid) and fields.get("Name", "").startswith("boxinit")
        if real_uid in uids or ours:
            found.append(f"{pid} uid={real_uid} ppid={fields.get('PPid')} {fields.get('Name')}")
    return found


def our_cgroups() -> list[str]:
    """Box cgroups of this process still present in any hierarchy, but for those of the
    warm boxes the pool keeps prepared (retired boxes are torn down first), and the idle
    ones kept for reuse while no task is in them (one with a task counts: it is a leak)."""
    from sandbox import _pool
    from sandbox.cgroups import reuse

    _pool.settle()
    prepared = {os.path.basename(box.cgroup.procs_dir()) for box in _pool.prepared()
                if box.cgroup is not None}
    idle_dirs = reuse.idle_dirs()
    busy = {os.path.basename(d) for d in idle_dirs if _has_task(Path(d))}
    idle = {os.path.basename(d) for d in idle_dirs} - busy
    prefix = f"box-{os.getpid()}-"

    def ours(p: Path) -> bool:
        return (p.is_dir() and p.name.startswith(prefix) and p.name not in prepared
                and p.name not in idle)

    found = []
    for parent in Path("/sys/fs/cgroup").glob("*/pysandbox"):
        found += [str(p) for p in parent.iterdir() if ours(p)]
    unified = Path("/sys/fs/cgroup/pysandbox")
    if unified.is_dir():
        found += [str(p) for p in unified.iterdir() if ours(p)]
    return found


def _has_task(cgroup: Path) -> bool:
    for name in ("cgroup.procs", "tasks"):
        try:
            if (cgroup / name).read_text().strip():
                return True
        except OSError:
            continue
    return False


def mount_count() -> int:
    with open("/proc/self/mountinfo") as handle:
        return sum(1 for _ in handle)


def _status_kib(key: str) -> int:
    return int(_status_fields("self")[key].split()[0]) * 1024


def reset_peak_rss() -> int:
    """Reset this process's VmHWM (writing 5 to clear_refs) and return the current RSS."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return _status_kib("VmRSS")


def peak_rss() -> int:
    return _status_kib("VmHWM")


@dataclasses.dataclass(frozen=True)
class HostSecret:
    """A root-only file on the host that boxes must never read, in a bindable directory."""

    directory: Path
    path: Path
    content: bytes


@contextlib.contextmanager
def host_secret(base: str = "/var/tmp") -> Iterator[HostSecret]:
    # Not under /tmp: binds of /tmp paths are refused, and one test binds this directory.
    import secrets
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="hostile-secret-", dir=base))
    try:
        directory.chmod(0o755)  # traversable by the box's uid, so only the file mode guards it
        content = b"host secret " + secrets.token_hex(16).encode() + b"\n"
        path = directory / "secret.txt"
        path.write_bytes(content)
        path.chmod(0o600)
        yield HostSecret(directory, path, content)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run_all(results: Sequence[Result]) -> bytes:
    """All output of several results, for one escape check."""
    return b"".join(r.stdout + r.stderr for r in results)
