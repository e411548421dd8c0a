"""Whole-box teardown (DESIGN 5.5): nothing outlives a run, whatever the program or the caller
does: daemons, stopped tasks, zombies, KeyboardInterrupt, exceptions, a crashed supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sandbox
from sandbox import SandboxError, Verdict, _pool, supervisor
from sandbox._plan import make_plan
from sandbox._slots import state_dir

BOX_PYTHON = "/usr/bin/python3"

DAEMON = r"""
import os, signal, sys, time
keep_stdio = sys.argv[1] == "keep"
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGPIPE):
            signal.signal(s, signal.SIG_IGN)
        if not keep_stdio:
            for fd in (0, 1, 2):
                os.close(fd)
        open("/box/daemon.pid", "w").write(str(os.getpid()))
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
while not os.path.exists("/box/daemon.pid"):
    time.sleep(0.005)
print("parent done", flush=True)
"""

STOPPED = r"""
import os, signal, time
kids = []
for session in (False, True):
    pid = os.fork()
    if pid == 0:
        if session:
            os.setsid()
        os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(0)
    kids.append(pid)
for pid in kids:
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
print("stopped", len(kids), flush=True)
"""

ZOMBIES = r"""
import os
for _ in range(20):
    if os.fork() == 0:
        os._exit(0)
pid = os.fork()
if pid == 0:
    # A child that leaves zombies of its own and exits: they go to the box's init.
    for _ in range(5):
        if os.fork() == 0:
            os._exit(0)
    os._exit(0)
os.waitpid(pid, 0)
import time; time.sleep(0.1)
zombies = sum(1 for p in os.listdir("/proc") if p.isdigit()
              and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] == "Z")
print("zombies", zombies, flush=True)
"""


def _open_fds() -> int:
    """Our open fds once the pool holds none (prepared and retired boxes keep fds open by
    design): a difference between two counts is a leak."""
    _pool.drain()
    # Slot lock files stay open once taken, by design (_slots), and how many slots a process
    # has taken depends on how many boxes were alive at once, the pool's included.
    slots = os.path.join(state_dir(), "slots") + os.sep
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{name}").startswith(slots):
                continue
        count += 1
    return count


def _prepare(cmd: list[str], limits: Any = None, **kwargs: Any) -> None:
    """Have the pool prepare boxes of this run's shape, so the run takes the warm path."""
    if not _pool.depth():
        return
    _pool.after_run(make_plan(cmd, limits, files_=kwargs.get("files"),
                              stdin=kwargs.get("stdin"), copy_out=kwargs.get("copy_out", ())),
                    supervisor._new_box)
    _pool.settle()
    assert _pool.prepared(), "the pool prepared no box"


@pytest.fixture
def ctrl_c() -> Iterator[Callable[[float], None]]:
    """Send SIGINT to this process after a delay, from another thread, like Ctrl-C: Python
    raises KeyboardInterrupt in the main thread (the one calling sandbox.run)."""
    timers: list[threading.Timer] = []
    old = signal.signal(signal.SIGINT, signal.default_int_handler)

    def arm(seconds: float) -> None:
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
        timers.append(timer)
        timer.start()

    try:
        yield arm
    finally:
        for timer in timers:
            timer.cancel()
            timer.join()
        signal.signal(signal.SIGINT, old)


@pytest.mark.parametrize("stdio", ["keep", "close"])
def test_setsid_double_fork_daemon_dies_with_the_box(leftovers: Any, stdio: str) -> None:
    before = leftovers.baseline()
    started = time.monotonic()
    r = sandbox.run([BOX_PYTHON, "-c", DAEMON, stdio], {"cpu_time": 5, "wall_time": 20},
                    copy_out=["daemon.pid"])
    assert time.monotonic() - started < 5  # did not wait for the daemon (or the wall limit)
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert r.stdout == b"parent done\n"
    assert int(r.files["daemon.pid"]) > 1  # the daemon really ran
    assert leftovers.check(before, grace=0.5) == []


def test_stopped_tasks_die_with_the_box(leftovers: Any) -> None:
    before = leftovers.baseline()
    started = time.monotonic()
    r = sandbox.run([BOX_PYTHON, "-c", STOPPED], {"cpu_time": 5, "wall_time": 20})
    assert time.monotonic() - started < 5
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert r.stdout == b"stopped 2\n"
    assert leftovers.check(before, grace=0.5) == []


def test_zombies_are_reaped(leftovers: Any) -> None:
    before = leftovers.baseline()
    r = sandbox.run([BOX_PYTHON, "-c", ZOMBIES], {"pids": 64})
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert r.stdout.startswith(b"zombies ")
    assert leftovers.check(before, grace=0.5) == []


def test_a_box_killed_for_a_limit_takes_its_daemon_along(leftovers: Any) -> None:
    before = leftovers.baseline()
    code = DAEMON.replace('print("parent done", flush=True)', "import time; time.sleep(60)")
    r = sandbox.run([BOX_PYTHON, "-c", code, "keep"], {"wall_time": 0.5})
    assert r.verdict is Verdict.TIME_LIMIT
    assert leftovers.check(before, grace=0.5) == []


@pytest.mark.parametrize("delay", [0.05, 0.3])
@pytest.mark.parametrize("program", ["sleep", "daemon"])
def test_keyboard_interrupt_mid_run_leaves_nothing(
    leftovers: Any, ctrl_c: Callable[[float], None], delay: float, program: str
) -> None:
    code = ("import time; time.sleep(30)" if program == "sleep" else
            DAEMON.replace('print("parent done", flush=True)', "time.sleep(30)"))
    sandbox.run(["/bin/true"])  # warm up what a process opens once (slot lock, backend)
    fds = _open_fds()
    before = leftovers.baseline()
    started = time.monotonic()
    ctrl_c(delay)
    with pytest.raises(KeyboardInterrupt):
        sandbox.run([BOX_PYTHON, "-c", code, "keep"], {"cpu_time": 10, "wall_time": 25})
    assert time.monotonic() - started < 5  # the interrupt was not held until the run ended
    assert leftovers.check(before, grace=1.0) == []
    assert _open_fds() == fds
    # The sandbox still works afterwards (slot and state are consistent).
    assert sandbox.run(["/bin/true"]).verdict is Verdict.OK


# System calls through which the supervisor may set up, watch and tear down a box.
_OS_CALLS = ("pipe", "pipe2", "close", "dup", "dup2", "open", "read", "write", "pread",
             "memfd_create", "posix_spawn", "fork", "waitpid", "wait4", "waitid", "kill",
             "sendfile", "lseek", "fstat", "mkdir", "rmdir", "unlink", "pidfd_open", "fchmod",
             "fchown", "chown", "set_blocking", "set_inheritable", "readlink", "stat", "lstat")


class _Injector:
    """Wraps os functions; counts the calls sandbox code makes and, on call number `at`,
    sends SIGINT to this process as the call returns, so Python raises KeyboardInterrupt
    at the next bytecode: the result of that call is never stored. This is what Ctrl-C
    does when it lands there; sweeping `at` visits every such moment of a run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: int = 0) -> None:
        self.at = at
        self.count = 0
        for name in _OS_CALLS:
            if hasattr(os, name):
                monkeypatch.setattr(os, name, self._wrap(getattr(os, name)))

    def _wrap(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            # The main thread's calls only (the one Ctrl-C interrupts): the pool thread's
            # calls come at times of their own, and would make the sweep irreproducible.
            if threading.current_thread() is threading.main_thread() and \
                    sys._getframe(1).f_globals.get("__name__", "").startswith("sandbox"):
                self.count += 1
                if self.count == self.at:
                    os.kill(os.getpid(), signal.SIGINT)
            return result

        return call


class _Hung(BaseException):
    pass


def _raise_hung(signum: int, frame: Any) -> None:
    raise _Hung


def test_keyboard_interrupt_at_every_step_of_a_run_leaves_nothing(
    leftovers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmd = [BOX_PYTHON, "-c", "import time; time.sleep(30)"]
    limits = {"cpu_time": 5, "wall_time": 0.3}
    kwargs: dict[str, Any] = {"stdin": b"input", "files": {"in.txt": b"x"}, "copy_out": ["o"]}
    sandbox.run(["/bin/true"])  # warm up what a process opens once (slot lock, backend)
    old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    old_usr1 = signal.signal(signal.SIGUSR1, _raise_hung)
    try:
        # Counted twice: the first run may also (re)start the sandbox's zygote, whose os
        # calls a steady-state run does not make.
        for _ in range(2):
            _prepare(cmd, limits, **kwargs)
            with monkeypatch.context() as patch:
                counter = _Injector(patch)
                assert sandbox.run(cmd, limits, **kwargs).verdict is Verdict.TIME_LIMIT
        steps = counter.count
        assert steps > 5, "the supervisor makes hardly any os calls? the sweep would be empty"
        failures = []
        for at in range(1, min(steps, 150) + 1):
            fds = _open_fds()
            before = leftovers.baseline()
            _prepare(cmd, limits, **kwargs)  # the warm path (SANDBOX_POOL=0 sweeps the cold)
            outcome = "KeyboardInterrupt"
            watchdog = threading.Timer(10, os.kill, (os.getpid(), signal.SIGUSR1))
            with monkeypatch.context() as patch:
                injector = _Injector(patch, at)
                watchdog.start()
                try:
                    sandbox.run(cmd, limits, **kwargs)
                    outcome = "returned a Result (the interrupt was swallowed)"
                except KeyboardInterrupt:
                    pass
                except _Hung:
                    outcome = "hung for 10 s"
                except BaseException as exc:
                    outcome = f"raised {type(exc).__name__}: {exc}"
                finally:
                    watchdog.cancel()
            problems = leftovers.check(before, grace=1.0)
            if problems:
                leftovers.clean(before)
            if _open_fds() != fds:
                problems.append(f"{_open_fds() - fds} fds leaked")
            if injector.count < at and not problems and outcome.startswith("returned"):
                continue  # this run made fewer calls (no rmdir retry): nothing was injected
            if outcome != "KeyboardInterrupt" or problems:
                failures.append(f"step {at}/{steps}: {outcome}; {problems}")
            if outcome == "hung for 10 s":
                break  # the supervisor's state is suspect from here on
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGUSR1, old_usr1)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("bad", ["not-bytes", "missing-host-file", "does-not-fit"])
def test_an_error_during_copy_in_cleans_up(leftovers: Any, tmp_path: Path, bad: str) -> None:
    files: dict[str, Any] = {"ok.txt": b"fine"}
    limits: dict[str, Any] = {}
    if bad == "not-bytes":
        files["bad"] = 12345
    elif bad == "missing-host-file":
        files["bad"] = tmp_path / "missing"
    else:
        files["bad"] = b"x" * (2 << 20)
        limits["disk"] = "1M"
    sandbox.run(["/bin/true"])  # warm up what a process opens once (slot lock, backend)
    fds = _open_fds()
    before = leftovers.baseline()
    with pytest.raises(SandboxError):
        sandbox.run(["/bin/true"], limits, files=files)
    assert leftovers.check(before, grace=0.5) == []
    assert _open_fds() == fds


def test_an_unexpected_exception_during_copy_in_cleans_up(
    leftovers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_copy_in(*args: Any, **kwargs: Any) -> None:
        raise OSError(5, "Input/output error (injected)")

    sandbox.run(["/bin/true"])  # warm up what a process opens once (slot lock, backend)
    monkeypatch.setattr(sandbox.files, "copy_in", broken_copy_in)
    fds = _open_fds()
    before = leftovers.baseline()
    with pytest.raises(OSError, match="injected"):
        sandbox.run(["/bin/true"], files={"a": b"a"})
    assert leftovers.check(before, grace=0.5) == []
    assert _open_fds() == fds


def test_no_fd_leak_over_many_runs(box_py: Callable[..., sandbox.Result]) -> None:
    box_py("pass")  # warm up lazily opened state (helper, backend, slot lock)
    fds = _open_fds()
    for code in ("pass", "raise SystemExit(1)", "import time; time.sleep(5)"):
        box_py(code, {"wall_time": 0.3}, stdin=b"x", copy_out=["missing"])
    assert _open_fds() == fds


def _box_dirs_of(leftovers: Any, pid: int) -> list[str]:
    return sorted(d for d in leftovers.box_cgroups()
                  if os.path.basename(d).startswith(f"box-{pid}-"))


def test_crashed_supervisor_leaves_no_process_and_next_start_cleans_its_cgroups(
    leftovers: Any, host_env: dict[str, str],
    host_python: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    script = ("import sandbox; sandbox.run(['/usr/bin/python3', '-c', "
              "'import time; time.sleep(60)'], {'cpu_time': 30, 'wall_time': 60})")
    proc = subprocess.Popen([sys.executable, "-c", script], env=host_env)
    try:
        deadline = time.monotonic() + 20
        dirs: list[str] = []
        while time.monotonic() < deadline:
            dirs = _box_dirs_of(leftovers, proc.pid)
            # The box runs when its cgroup holds init and the payload.
            if dirs and len({t for d in dirs for t in leftovers.tasks(d)}) >= 2:
                break
            time.sleep(0.02)
        else:
            pytest.fail(f"the supervisor never started a box (dirs: {dirs})")
        time.sleep(0.2)
        box_tasks = {t for d in dirs for t in leftovers.tasks(d)}
        box_tasks |= leftovers.descendants(proc.pid)  # the helper lives outside the cgroup
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Everything of the box dies with its supervisor (parent-death signal + pid namespace).
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(_alive(t) for t in box_tasks):
        time.sleep(0.02)
    assert not [t for t in box_tasks if _alive(t)]
    assert all(leftovers.tasks(d) == [] for d in dirs)
    # A new process cleans the crashed one's cgroups when it starts.
    fresh = host_python("import sandbox; print(sandbox.run(['/bin/true']).verdict)")
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip() == "OK"
    assert _box_dirs_of(leftovers, proc.pid) == []


def test_stale_box_cgroup_with_live_task_is_killed_and_removed_at_start(
    leftovers: Any, host_python: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    dead = subprocess.Popen(["/bin/true"])
    dead.wait()
    name = f"box-{dead.pid}-0"
    parents = leftovers.parents()
    assert parents, "no sandbox cgroup parent exists (is any backend usable?)"
    squatter = subprocess.Popen(["/bin/sleep", "60"])
    made: list[str] = []
    try:
        for parent in parents:
            path = os.path.join(parent, name)
            os.mkdir(path)
            made.append(path)
            with open(os.path.join(path, "cgroup.procs"), "w") as handle:
                handle.write(str(squatter.pid))
        fresh = host_python("import sandbox; print(sandbox.run(['/bin/true']).verdict)")
        assert fresh.returncode == 0, fresh.stderr
        assert squatter.wait(timeout=5) == -signal.SIGKILL
        assert [p for p in made if os.path.exists(p)] == []
    finally:
        if squatter.poll() is None:
            squatter.kill()
            squatter.wait()
        for path in made:
            with contextlib.suppress(OSError):
                os.rmdir(path)


def test_leak_guard_sees_processes_cgroups_and_mounts(leftovers: Any, tmp_path: Path) -> None:
    """The autouse guard is only as good as its snapshot: check it notices each kind."""
    before = leftovers.baseline()
    sleeper = subprocess.Popen(["/bin/sleep", "30"])
    cgroup = os.path.join(leftovers.parents()[0], f"box-{os.getpid()}-999999")
    os.mkdir(cgroup)
    point = tmp_path / "mnt"
    point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "guardtest", str(point)],
                   check=True)
    try:
        problems = " | ".join(leftovers.diff(before, leftovers.snapshot(before.cgroups)))
        assert f"pid {sleeper.pid} " in problems
        assert cgroup in problems
        assert str(point) in problems
    finally:
        subprocess.run(["umount", str(point)], check=True)
        sleeper.kill()
        sleeper.wait()
        os.rmdir(cgroup)
    assert leftovers.check(before, grace=0.5) == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    return True
