"""A box's cgroup serving the next box (sandbox/cgroups/reuse.py): the next run's numbers
must be its own, exactly as on a fresh cgroup.

Each pairing test runs A, then B on the cgroup A used (when this host reuses: v1 here; on v2
only with a kernel that resets memory.peak, else the tests check that every box is fresh),
and compares B with B on fresh cgroups (SANDBOX_REUSE=0). Pairs run cold (SANDBOX_POOL=0) so
that B's box takes its cgroup after A's release; a test of its own checks the pool reuses.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sandbox
from sandbox import Verdict, _pool, _reuse, cgroups
from sandbox.cgroups import base, reuse

from .conftest import BOX_PYTHON, REPO_ROOT, in_forked_child

MiB = 1 << 20
SCALE = float(os.environ.get("SANDBOX_TEST_TIME_SCALE", "1"))
# Peaks of one small program differ by a few hundred KiB from run to run (fresh or not);
# what a reuse bug leaves is what A charged: tens or hundreds of MiB.
PEAK_SLACK = 2 * MiB
SETTLE = 0.15  # what A's kernel objects take to be freed (RCU), with a margin

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root")


def reusing() -> bool:
    return _reuse.enabled() and cgroups.backend().reuse_supported()


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The cgroup directory each box got (its memory one on v1), in claim order. A reused
    one must have next to nothing charged when it is handed out: what the previous run left
    would count against this run's limit and in its peak."""
    got: list[str] = []
    real = reuse.claim

    def claim(*args: Any) -> cgroups.BoxCgroup:
        cgroup = real(*args)
        if cgroup.procs_dir() in got:
            charged = cgroup.charged()
            assert charged <= reuse.SETTLED, (cgroup.procs_dir(), charged)
        got.append(cgroup.procs_dir())
        return cgroup

    monkeypatch.setattr(reuse, "claim", claim)
    reuse.drain()  # B must get A's cgroup, not an older idle one
    yield got
    reuse.drain()


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_POOL", "0")


def py(code: str, limits: Any = None, **kwargs: Any) -> sandbox.Result:
    return sandbox.run([BOX_PYTHON, "-c", code], limits, **kwargs)


def fresh(monkeypatch: pytest.MonkeyPatch, code: str, limits: Any, times: int = 3,
          **kwargs: Any) -> list[sandbox.Result]:
    monkeypatch.setenv("SANDBOX_REUSE", "0")
    try:
        return [py(code, limits, **kwargs) for _ in range(times)]
    finally:
        monkeypatch.delenv("SANDBOX_REUSE")


def after(a_code: str, a_limits: Any, b_code: str, b_limits: Any, used: list[str],
          reclaim: bool = True, **kwargs: Any) -> tuple[sandbox.Result, sandbox.Result]:
    """Run A, let it settle, run B; B got A's cgroup exactly when this host reuses."""
    a = py(a_code, a_limits, **kwargs)
    settle(reclaim)
    if not reclaim:
        # The page cache A read is still charged: B's claim must reclaim it (the claim
        # checks that nothing is left, see `used`).
        assert all(cgroup.cached() >= MiB // 2 for cgroup in reuse.idle())
    b = py(b_code, b_limits, **kwargs)
    assert len(used) == 2
    assert (used[0] == used[1]) == reusing(), (used, reuse.stats)
    return a, b


def settle(reclaim: bool = True) -> None:
    """Until A's cgroup would be handed out: its kernel objects are freed an RCU grace period
    or more after its end (longer on a loaded machine), and the page cache it left is
    reclaimed (as B's claim does once; without `reclaim`, left to it)."""
    deadline = time.monotonic() + 5 * SCALE
    time.sleep(SETTLE)
    while time.monotonic() < deadline and any(
            cgroup.charged() - (cgroup.cached() if not reclaim else 0) > reuse.SETTLED
            for cgroup in reuse.idle()):
        for cgroup in reuse.idle() if reclaim else ():
            cgroup.reclaim()
        time.sleep(0.05)


def assert_like_fresh(b: sandbox.Result, fresh_runs: list[sandbox.Result]) -> None:
    peaks = [r.memory_peak for r in fresh_runs]
    assert min(peaks) - PEAK_SLACK <= b.memory_peak <= max(peaks) + PEAK_SLACK, (
        b.memory_peak, peaks)
    assert {r.verdict for r in fresh_runs} == {b.verdict}, (b.message, fresh_runs)
    assert b.oom_killed is False and not any(r.oom_killed for r in fresh_runs)
    cpus = [r.cpu_time for r in fresh_runs]
    assert b.cpu_time <= max(cpus) * 2 + 0.05 * SCALE, (b.cpu_time, cpus)


SMALL_B = "b = bytearray(16 << 20); print(len(b))"
B_LIMITS = {"memory": "256M", "cpu_time": 5 * SCALE}


def test_the_same_cgroup_serves_two_runs_and_not_with_reuse_off(
        used: list[str], cold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    after("pass", None, "pass", None, used)
    if reusing():
        assert reuse.idle_dirs()
    monkeypatch.setenv("SANDBOX_REUSE", "0")
    reuse.drain()
    used.clear()
    for _ in range(2):
        assert py("pass").ok
        time.sleep(SETTLE)
    assert used[0] != used[1]
    assert reuse.idle_dirs() == set()  # nothing is kept when reuse is off


def test_v2_reuses_only_where_the_kernel_resets_the_peak() -> None:
    chosen = cgroups.backend()
    if chosen.version != 2:
        pytest.skip("cgroup v1 host")
    from sandbox.cgroups import v2

    assert isinstance(chosen, v2.V2Backend)
    resettable = v2._peak_resettable(chosen.parent)
    release = os.uname().release.split("-")[0].split(".")
    assert resettable == ((int(release[0]), int(release[1])) >= (6, 12))
    assert chosen.reuse_supported() == (v2.REUSE_TESTED and resettable)


def test_after_memory_tmpfs_and_cache_b_measures_like_a_fresh_box(
        used: list[str], cold: None, monkeypatch: pytest.MonkeyPatch,
        data_file: Path) -> None:
    # A: most of its limit in anonymous memory, /dev/shm, a file in /box and /tmp, and page
    # cache of a host file no one had cached (charged to A).
    a_code = f"""
import os
shm = open('/dev/shm/fill', 'wb'); shm.write(b's' * (40 << 20)); shm.close()
for path in ('/box/fill', '/tmp/fill'):
    with open(path, 'wb') as f: f.write(b'f' * (30 << 20))
with open({str(data_file)!r}, 'rb') as f:
    while f.read(1 << 20): pass
anon = bytearray(120 << 20)
print('done')
"""
    a_limits = {"memory": "256M", "disk": "128M", "cpu_time": 10 * SCALE}
    a, b = after(a_code, a_limits, SMALL_B, B_LIMITS, used, reclaim=not keeps_cache(data_file),
                 binds=[str(data_file.parent)])
    assert a.verdict is Verdict.OK and a.memory_peak > 200 * MiB, (a.message, a.stderr)
    assert b.ok
    assert_like_fresh(b, fresh(monkeypatch, SMALL_B, B_LIMITS,
                               binds=[str(data_file.parent)]))


def test_a_run_that_loaded_much_page_cache_keeps_it_and_leaves_a_fresh_cgroup(
        used: list[str], cold: None, big_file: Path) -> None:
    # Reclaiming it would evict those pages from the host's cache: the next runs would read
    # them again and be charged for them, which they are not after a fresh cgroup.
    skip_unless_cache_is_kept(big_file)
    code = f"""
with open({str(big_file)!r}, 'rb') as f:
    while f.read(1 << 20): pass
"""
    a = py(code, {"memory": "256M", "cpu_time": 5 * SCALE}, binds=[str(big_file.parent)])
    assert a.ok and a.memory_peak > 48 * MiB
    time.sleep(SETTLE)
    assert py("pass").ok
    assert used[0] != used[1]
    assert resident(big_file) > 0.9 * big_file.stat().st_size


def test_an_oom_killed_run_does_not_make_the_next_one_oom_killed(
        used: list[str], cold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = after("b = bytearray(512 << 20)", {"memory": "64M"}, SMALL_B, B_LIMITS, used)
    assert a.verdict is Verdict.MEMORY_LIMIT and a.oom_killed
    assert b.ok and not b.oom_killed
    assert_like_fresh(b, fresh(monkeypatch, SMALL_B, B_LIMITS))


def test_a_limit_hit_without_kill_is_not_the_next_runs(
        used: list[str], cold: None, big_file: Path) -> None:
    # A reaches its limit and lives on: reading a file larger than its limit, the kernel
    # reclaims A's own page cache at the limit (v2 memory.events max goes up; v1 failcnt
    # should, but Linux 6.18 here never counts it). That must not turn B's failure into an
    # MLE. (A drops the cache it read, so that its cgroup is kept: see the test above.)
    a_code = f"""
import os, sys
fd = os.open({str(big_file)!r}, os.O_RDONLY)
while os.read(fd, 1 << 20): pass
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
sys.exit(3)
"""
    limits = {"memory": "24M", "cpu_time": 5 * SCALE}
    a, b = after(a_code, limits, "raise SystemExit(1)", limits, used,
                 binds=[str(big_file.parent)])
    if a.memory_peak < 20 * MiB:
        pytest.skip("reads of this file system bypass the page cache (9p on Linux 6.1)")
    assert a.verdict in (Verdict.MEMORY_LIMIT, Verdict.RUNTIME_ERROR), a.message
    assert not a.oom_killed
    assert b.verdict is Verdict.RUNTIME_ERROR and b.exit_code == 1, b.message


FORK_COUNT = """
import os, time
n = 0
try:
    while n < 64:
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
        n += 1
except OSError:
    pass
print(n)
"""


def test_a_run_that_forked_to_its_pids_limit_leaves_the_next_its_own(
        used: list[str], cold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = {"pids": 8, "wall_time": 10 * SCALE, "cpu_time": 5 * SCALE}
    a, b = after(FORK_COUNT, limits, FORK_COUNT, limits, used)
    fresh_counts = {int(r.stdout) for r in fresh(monkeypatch, FORK_COUNT, limits, times=1)}
    assert {int(a.stdout), int(b.stdout)} == fresh_counts, (a.stdout, b.stdout, fresh_counts)
    assert fresh_counts == {7}  # the program is one of its 8 pids


def test_cpu_burnt_by_a_does_not_count_for_b(
        used: list[str], cold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    burn = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"
    a, b = after(burn, {"cpu_time": 5 * SCALE}, "pass", {"cpu_time": 0.4 * SCALE}, used)
    assert a.ok and a.cpu_time >= 0.6
    assert b.ok, b.message  # A's 0.6 s would have been a TLE for B
    assert_like_fresh(b, fresh(monkeypatch, "pass", {"cpu_time": 0.4 * SCALE}))


def test_the_pool_reuses_cgroups(used: list[str]) -> None:
    if not _pool.depth():
        pytest.skip("SANDBOX_POOL=0")
    for _ in range(12):
        assert py("pass").ok
        time.sleep(0.06)
    assert len(set(used)) < len(used) if reusing() else len(set(used)) == len(used), used


def test_a_cgroup_with_a_task_is_not_kept() -> None:
    chosen = cgroups.backend()
    cgroup = chosen.create(f"box-{os.getpid()}-{time.monotonic_ns()}", 64 * MiB, 16)
    proc = subprocess.Popen(["/bin/sleep", "30"])
    try:
        for directory in cgroup.directories():
            Path(directory, "cgroup.procs").write_text(str(proc.pid))
        assert not cgroup.quiet()
        # v1: the removal fails while the task lives (v2 kills it), as without reuse.
        with contextlib.suppress(OSError):
            reuse.release(cgroup)
        assert not set(cgroup.directories()) & reuse.idle_dirs()
    finally:
        proc.kill()
        proc.wait()
        for directory in cgroup.directories():
            base.rmdir_retry(directory)


def test_a_cgroup_is_quiet_once_its_last_task_is_gone() -> None:
    chosen = cgroups.backend()
    cgroup = chosen.create(f"box-{os.getpid()}-{time.monotonic_ns()}", 64 * MiB, 16)
    try:
        proc = subprocess.Popen(["/bin/sleep", "30"])
        for directory in cgroup.directories():
            Path(directory, "cgroup.procs").write_text(str(proc.pid))
        assert not cgroup.quiet()
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 5 * SCALE
        while not cgroup.quiet() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cgroup.quiet()
    finally:
        cgroup.remove()


def test_a_cgroup_whose_memory_stays_charged_is_never_handed_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not reusing():
        pytest.skip("no cgroup reuse on this host")
    chosen = cgroups.backend()
    tag = f"box-{os.getpid()}-{time.monotonic_ns()}"
    cgroup = chosen.create(tag, 64 * MiB, 16)
    shm = Path("/dev/shm", f"cgreuse-test-{os.getpid()}")
    # A process of it leaves a file in the host's /dev/shm: its pages stay charged to the
    # cgroup after the process is gone, and cannot be reclaimed (no swap).
    join = f"""
import os
for d in {cgroup.directories()!r}:
    with open(os.path.join(d, 'cgroup.procs'), 'w') as f: f.write(str(os.getpid()))
with open({str(shm)!r}, 'wb') as f: f.write(b'x' * (1 << 20))
"""
    try:
        subprocess.run([sys.executable, "-c", join], check=True, timeout=60)
        assert cgroup.quiet() and cgroup.charged() >= MiB
        reuse.drain()
        reuse.release(cgroup)  # kept: no task, under RELEASE_MAX
        assert set(cgroup.directories()) <= reuse.idle_dirs()
        monkeypatch.setattr(reuse, "MAX_UNSETTLED", 0.3)
        other = reuse.claim(chosen, tag + "1", 64 * MiB, 16)
        other.remove()
        assert other.procs_dir() != cgroup.procs_dir()  # reclaimed once, still charged
        assert set(cgroup.directories()) <= reuse.idle_dirs()  # (it may yet settle)
        time.sleep(0.4)
        other = reuse.claim(chosen, tag + "2", 64 * MiB, 16)
        other.remove()
        assert other.procs_dir() != cgroup.procs_dir()
        assert not any(os.path.isdir(d) for d in cgroup.directories())  # removed
    finally:
        shm.unlink(missing_ok=True)
        reuse.drain()


def test_one_shot_runs_keep_no_cgroup(used: list[str]) -> None:
    from sandbox._spawn import one_shot

    with one_shot():
        assert py("pass").ok
    assert reuse.idle_dirs() == set()


def test_another_process_starting_leaves_our_idle_cgroups_alone(
        used: list[str], cold: None, host_env: dict[str, str]) -> None:
    assert py("pass").ok
    idle = reuse.idle_dirs()
    assert bool(idle) == reusing()
    # Its start sweeps stale box cgroups (of dead creators): ours are not.
    subprocess.run([sys.executable, "-c", "from sandbox import cgroups; cgroups.backend()"],
                   env=host_env, check=True, timeout=60)
    assert all(os.path.isdir(d) for d in idle)
    assert reuse.idle_dirs() == idle


def test_a_forked_child_forgets_the_parents_idle_cgroups(used: list[str], cold: None) -> None:
    assert py("pass").ok
    idle = reuse.idle_dirs()
    in_forked_child(lambda: reuse.idle_dirs() == set() and py("pass").ok, reuse.drain)
    assert reuse.idle_dirs() == idle and all(os.path.isdir(d) for d in idle)
    time.sleep(SETTLE)
    assert py("pass").ok
    if reusing():
        assert used[-1] in idle | {used[0]}


def test_drain_leaves_nothing_in_the_hierarchies(used: list[str]) -> None:
    for _ in range(6):
        assert py("pass").ok
        time.sleep(0.03)
    _pool.drain()
    assert reuse.idle_dirs() == set()
    mine = [d for d in cgroups.backend().box_dirs()
            if os.path.basename(d).startswith(f"box-{os.getpid()}-")]
    assert mine == []


def test_a_process_that_exits_removes_its_idle_cgroups(host_env: dict[str, str]) -> None:
    script = ("import os, time, sandbox\nos.environ['SANDBOX_POOL'] = '0'\n"
              "for _ in range(3):\n    assert sandbox.run(['/bin/true']).ok\n"
              "    time.sleep(0.1)\n"
              "from sandbox.cgroups import reuse\nprint(len(reuse._idle))\n")
    out, _err, left = _in_a_process(script, host_env)
    # (A cgroup not settled yet when the next run claims leaves that run a fresh one.)
    assert (int(out) >= 1) if reusing() else int(out) == 0, out
    assert left == []


def test_a_box_closed_after_the_final_drain_leaves_no_cgroup(host_env: dict[str, str]) -> None:
    # A long-lived box (spawn's; the worker's Python parser) closed by an exit hook that
    # runs after reuse's own: its cgroup must be removed, not kept for a run that never
    # comes. (Hooks run last in first: this one, registered before sandbox is imported,
    # runs after reuse's final drain.)
    script = ("import atexit, os\nos.environ['SANDBOX_POOL'] = '0'\nboxes = []\n"
              "def late():\n    from sandbox.cgroups import reuse\n"
              "    kept = reuse.stats['kept']\n    boxes[0].close()\n"
              "    print(reuse.stats['kept'] - kept, len(reuse._idle), reuse._closed)\n"
              "atexit.register(late)\nimport time, sandbox\n"
              "for _ in range(2):\n    assert sandbox.run(['/bin/true']).ok\n"
              "    time.sleep(0.1)\n"
              "boxes.append(sandbox.spawn(['/bin/cat'], {'memory': '32M', 'pids': 2}))\n")
    out, err, left = _in_a_process(script, host_env)
    assert not err, err
    # Kept none, idle none; the final drain ran where cgroups are reused at all (not on a
    # v2 kernel that cannot reset memory.peak: every cgroup is removed at release there).
    assert out.split() == [b"0", b"0", b"True" if reusing() else b"False"], out
    assert left == []


def _in_a_process(script: str, env: dict[str, str]) -> tuple[bytes, bytes, list[str]]:
    """Run `script` in a Python process of its own: (stdout, stderr, the box cgroups of that
    process still there after it exited)."""
    proc = subprocess.Popen([sys.executable, "-c", script], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    left = [d for d in cgroups.backend().box_dirs()
            if os.path.basename(d).startswith(f"box-{proc.pid}-")]
    return out, err, left

# ---------- data that A reads into the page cache ----------

def _uncached_file(directory: Path, size: int) -> Path:
    directory.mkdir()
    path = directory / "data.bin"
    with open(path, "wb") as handle:
        handle.write(os.urandom(1 << 20) * (size >> 20))
        handle.flush()
        os.fsync(handle.fileno())
        # Our own file's clean pages only: A must be the one that reads them in.
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return path


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Binds cannot come from /tmp; the repository is on a disk (and writable in the v2 guest).
    path = REPO_ROOT / f".cgreuse-test-{os.getpid()}"
    yield path
    for child in path.glob("*"):
        child.unlink()
    if path.exists():
        path.rmdir()


@pytest.fixture
def data_file(data_dir: Path) -> Path:
    return _uncached_file(data_dir, 1 * MiB)


@pytest.fixture
def big_file(data_dir: Path) -> Path:
    return _uncached_file(data_dir, 64 * MiB)


def keeps_cache(path: Path) -> bool:
    """Whether the file system keeps a file's pages cached after it is closed (9p in the v2
    guests drops them), leaving it uncached again."""
    with open(path, "rb") as handle:
        handle.read(MiB)
    cached = resident(path)  # (after the close)
    with open(path, "rb") as handle:
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return cached > 0


def skip_unless_cache_is_kept(path: Path) -> None:
    if not keeps_cache(path):
        pytest.skip("the repository's file system keeps no page cache after a read")


def resident(path: Path) -> int:
    """Bytes of `path` in the page cache (util-linux fincore)."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return int(out.split()[0])
