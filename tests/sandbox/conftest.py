"""Sandbox test fixtures.

`leak_guard` (autouse, every test under tests/sandbox) fails a test that leaves behind a
process, a box cgroup or a mount; a session-wide baseline catches what module-scoped
fixtures leave. Only what this test session made counts (other engineers may run boxes on
the same host at the same time): our descendants, box cgroups named after one of our
processes (alive, or a dead subprocess we started), and the tasks in those cgroups. Mounts
are compared as the whole /proc/self/mountinfo.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import sandbox
from sandbox import _pool, cgroups
from sandbox._spawn import zygote_pid
from sandbox.cgroups import reuse
from sandbox.cgroups.base import pid_alive

BOX_PYTHON = "/usr/bin/python3"  # not the pyenv shim: a bash script, and not in the box
REPO_ROOT = Path(__file__).resolve().parents[2]
BOX_NAME_RE = re.compile(r"^box-(\d+)-\d+$")
GRACE_SECONDS = 3.0  # a leftover must persist this long to count (reaping is asynchronous)


# ---------- what a test may leave behind ----------

SPAWNED: set[int] = set()  # pids of every subprocess this session started


class _RecordingPopen(subprocess.Popen):  # type: ignore[type-arg]
    """subprocess.Popen that remembers its pid, so the box cgroups of a supervisor we ran
    in a subprocess count as ours after it died (names carry only the creator's pid)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        SPAWNED.add(self.pid)


@dataclass
class Snapshot:
    processes: dict[int, str] = field(default_factory=dict)  # pid -> description
    cgroups: set[str] = field(default_factory=set)  # box cgroup directories
    mounts: Counter[str] = field(default_factory=Counter)


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, "comm state") for every process on the host."""
    table: dict[int, tuple[int, str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                raw = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        comm = raw[raw.find("(") + 1 : raw.rfind(")")]
        rest = raw[raw.rfind(")") + 2 :].split()
        table[int(name)] = (int(rest[1]), f"{comm} [{rest[0]}]")
    return table


def _descendants(root: int, table: dict[int, tuple[int, str]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def cgroup_parents() -> list[str]:
    """Our parent cgroup in each hierarchy the sandbox may use (v1 memory/pids/cpuacct, v2)."""
    name = os.environ.get("SANDBOX_CGROUP_PARENT", "pysandbox")
    candidates: list[str] = []
    own_v2 = "/"
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("0::"):
                own_v2 = line[3:].strip() or "/"
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fstype, _source, options = [*right.split(), "", "", ""][:3]
            mount = left.split()[4]
            if fstype == "cgroup" and set(options.split(",")) & {"memory", "pids", "cpuacct"}:
                candidates.append(os.path.join(mount, name))
            elif fstype == "cgroup2":
                candidates.append(os.path.join(mount, name))
                rel = os.path.dirname(own_v2).lstrip("/")
                candidates.append(os.path.join(mount, rel, name))
    root = os.environ.get("SANDBOX_CGROUP_ROOT")
    if root:
        candidates.append(os.path.join(root, name))
    return sorted({c for c in candidates if os.path.isdir(c)})


def box_cgroups() -> set[str]:
    out: set[str] = set()
    for parent in cgroup_parents():
        with contextlib.suppress(FileNotFoundError):
            out.update(os.path.join(parent, n) for n in os.listdir(parent)
                       if BOX_NAME_RE.match(n))
    return out


def _tasks(directory: str) -> list[int]:
    try:
        with open(os.path.join(directory, "cgroup.procs"), encoding="ascii") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


def _mounts() -> Counter[str]:
    out: Counter[str] = Counter()
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fstype, source = [*right.split(), "", ""][:2]
            out[f"{left.split()[4]} {fstype} {source}"] += 1
    return out


class Leftovers:
    """Snapshots of what this session owns, and the difference between two of them."""

    def __init__(self) -> None:
        self.me = os.getpid()

    parents = staticmethod(cgroup_parents)
    box_cgroups = staticmethod(box_cgroups)
    tasks = staticmethod(_tasks)

    @staticmethod
    def descendants(pid: int) -> set[int]:
        return _descendants(pid, _proc_table())

    def _ours(self, directory: str, family: set[int], known: set[str]) -> bool:
        match = BOX_NAME_RE.match(os.path.basename(directory))
        if not match:
            return False
        creator = int(match.group(1))
        if creator == self.me or creator in family:
            return True
        # A box of a supervisor we started that has died since (crashed, or exited without
        # cleaning up). Other sessions' dead supervisors are not ours to blame.
        return directory not in known and creator in SPAWNED and not pid_alive(creator)

    def snapshot(self, known: set[str]) -> Snapshot:
        """Our processes, box cgroups and the mounts; `known` cgroups predate the test."""
        # Warm boxes: retired ones finish their teardown first (so it is checked here), and
        # prepared ones are alive by design (no program has run in them).
        _pool.settle()
        pooled = _pool_cgroup_dirs()
        helpers = _pool.helper_pids()
        table = _proc_table()
        family = _descendants(self.me, table)
        # The library's per-process fork server outlives runs by design; its children
        # (the outers of runs) still count.
        family.discard(zygote_pid())
        snap = Snapshot(mounts=_mounts())
        for directory in box_cgroups():
            if directory in pooled:
                continue
            if self._ours(directory, family, known):
                snap.cgroups.add(directory)
                family.update(_tasks(directory))
        family.discard(_zygote_pid())
        family -= helpers
        for pid in family:
            if pid in table:
                cmdline = _cmdline(pid)
                # Long-lived helpers of the test process itself, not of any box: the
                # multiprocessing resource tracker, and sandbox zygotes of servers that other
                # modules' session fixtures keep running.
                if "multiprocessing.resource_tracker" in cmdline or cmdline.endswith(" --serve"):
                    continue
                snap.processes[pid] = f"pid {pid} {table[pid][1]} {cmdline}"
        return snap

    def baseline(self) -> Snapshot:
        """A snapshot to compare against: every box cgroup existing now counts as known."""
        existing = box_cgroups()
        snap = self.snapshot(existing)
        snap.cgroups = existing
        return snap

    def diff(self, before: Snapshot, after: Snapshot) -> list[str]:
        problems = [f"process {d}" for p, d in sorted(after.processes.items())
                    if p not in before.processes]
        problems += [f"cgroup {c}" for c in sorted(after.cgroups - before.cgroups)]
        problems += [f"mount {m}" for m in sorted((after.mounts - before.mounts).elements())]
        return problems

    def check(self, before: Snapshot, grace: float = GRACE_SECONDS) -> list[str]:
        """What is left behind relative to `before`, after waiting up to `grace` seconds."""
        deadline = time.monotonic() + grace
        while True:
            problems = self.diff(before, self.snapshot(before.cgroups))
            if not problems or time.monotonic() >= deadline:
                return problems
            time.sleep(0.05)

    def clean(self, before: Snapshot) -> None:
        """End what a failing test left: only our own processes and box cgroups."""
        after = self.snapshot(before.cgroups)
        for pid in after.processes.keys() - before.processes.keys():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in after.processes.keys() - before.processes.keys():
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
        for directory in after.cgroups - before.cgroups:
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def in_forked_child(check: Callable[[], bool], cleanup: Callable[[], None]) -> None:
    """Assert that `check()` holds in a forked child of this process (as a Celery prefork
    worker is one); `cleanup` then runs in the child before it leaves by os._exit."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write_end, b"1" if check() else b"0")
            cleanup()
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    try:
        assert os.read(read_end, 1) == b"1" and status == 0
    finally:
        os.close(read_end)


def our_box_cgroups() -> set[str]:
    """Box cgroups of this process (other processes on this host may be running boxes),
    after the pool has torn down retired boxes, but for the boxes it keeps prepared."""
    _pool.settle()
    prepared = _pool_cgroup_dirs()
    return {d for d in cgroups.backend().box_dirs()
            if os.path.basename(d).startswith(f"box-{os.getpid()}-") and d not in prepared}


def _pool_cgroup_dirs() -> set[str]:
    """Cgroup directories of the boxes the pool keeps prepared, and the idle cgroups kept
    for reuse (no task in them: checked when they were released)."""
    return {directory for box in _pool.prepared() if box.cgroup is not None
            for directory in box.cgroup.directories()} | reuse.idle_dirs()


def _zygote_pid() -> int:
    """The sandbox's per-process zygote: long-lived by design, not a leftover of a run
    (the boxes it forks are its children, and still count)."""
    try:
        from sandbox import _spawn
    except ImportError:
        return 0
    return int(getattr(_spawn, "zygote_pid", lambda: 0)())


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()[:120]
    except OSError:
        return ""


@pytest.fixture(scope="session")
def leftovers() -> Leftovers:
    return Leftovers()


@pytest.fixture(scope="session", autouse=True)
def session_leak_guard(leftovers: Leftovers) -> Iterator[Snapshot]:
    baseline = leftovers.baseline()
    original = subprocess.Popen
    subprocess.Popen = _RecordingPopen  # type: ignore[misc]
    try:
        yield baseline
    finally:
        subprocess.Popen = original  # type: ignore[misc]
    problems = leftovers.check(baseline)
    if problems:
        leftovers.clean(baseline)
        pytest.fail("the sandbox test session left behind: " + "; ".join(problems))


@pytest.fixture(autouse=True)
def leak_guard(request: pytest.FixtureRequest, leftovers: Leftovers,
               session_leak_guard: Snapshot) -> Iterator[None]:
    before = leftovers.baseline()
    yield
    problems = leftovers.check(before)
    if problems:
        leftovers.clean(before)
        pytest.fail(f"{request.node.nodeid} left behind: " + "; ".join(problems))


# ---------- running things ----------

@pytest.fixture
def box_py() -> Callable[..., sandbox.Result]:
    """Run Python source in a box with the system interpreter: box_py(code, limits, **kw)."""

    def run(code: str, limits: Any = None, *args: str, **kw: Any) -> sandbox.Result:
        return sandbox.run([BOX_PYTHON, "-c", code, *args], limits, **kw)

    return run


def box_json(result: sandbox.Result) -> Any:
    """The JSON a probe printed as its last stdout line; a helpful failure otherwise."""
    assert result.verdict is sandbox.Verdict.OK, (result.verdict, result.message, result.stderr)
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


@pytest.fixture
def probe_json() -> Callable[[sandbox.Result], Any]:
    return box_json


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"]
                                          if env.get("PYTHONPATH") else "")
    return env


@pytest.fixture
def host_env() -> dict[str, str]:
    """Environment for a fresh host interpreter that imports the sandbox from this checkout."""
    return cli_env()


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[bytes]]:
    """Run `python -m sandbox ARGS` in a fresh interpreter; bytes out, never raises on status."""

    def run(*args: str, stdin: bytes | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "sandbox", *args], input=stdin,
                              capture_output=True, env=cli_env(), cwd=REPO_ROOT,
                              timeout=timeout, check=False)

    return run


@pytest.fixture
def host_python() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a Python script using the sandbox in a fresh host interpreter (a supervisor)."""

    def run(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=cli_env(), cwd=REPO_ROOT, timeout=timeout, check=False)

    return run
