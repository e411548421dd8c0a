"""Warm boxes (sandbox/_pool.py): runs take prepared boxes, and nothing of a run reaches the
next, whatever it tried; every run's limits and measurements are its own.

The rest of the sandbox suite (hostile programs included) runs with the pool on, as it is
by default; CI runs the suite a second time with SANDBOX_POOL=0 for the cold path.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import sandbox
from sandbox import Verdict, _pool
from sandbox._box import Box

from .conftest import BOX_PYTHON, in_forked_child, our_box_cgroups

MiB = 1 << 20
# Slower machines (the emulated v2 guest of .ci/v2-tests.sh sets 20) get looser time bounds.
SCALE = float(os.environ.get("SANDBOX_TEST_TIME_SCALE", "1"))

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root"),
    pytest.mark.skipif(not _pool.depth(), reason="SANDBOX_POOL=0: warm boxes are off"),
]


@pytest.fixture
def warm_takes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Box | None]]:
    """What each run got from the pool: a prepared box, or None (it ran cold)."""
    taken: list[Box | None] = []
    real = _pool.take

    def take(plan: Any) -> Box | None:
        box = real(plan)
        taken.append(box)
        return box

    monkeypatch.setattr(_pool, "take", take)
    yield taken


def py(code: str, limits: Any = None, **kwargs: Any) -> sandbox.Result:
    return sandbox.run([BOX_PYTHON, "-c", code], limits, **kwargs)


def warm_up(code: str = "pass", limits: Any = None) -> None:
    """One run of this shape, then wait for the pool to have prepared the next boxes."""
    py(code, limits)
    _pool.settle()


def test_runs_after_the_first_take_prepared_boxes(warm_takes: list[Box | None]) -> None:
    _pool.drain()
    results = [sandbox.run(["/bin/echo", str(i)]) for i in range(5)]
    assert [r.stdout for r in results] == [f"{i}\n".encode() for i in range(5)]
    assert all(r.verdict is Verdict.OK for r in results)
    assert warm_takes[0] is None, "the first run of a shape has nothing prepared"
    _pool.settle()
    assert sandbox.run(["/bin/true"]).ok
    assert warm_takes[-1] is not None, "a run after the pool settled went cold"


def test_a_warm_run_sees_nothing_of_the_previous_one(warm_takes: list[Box | None]) -> None:
    dirty = """
import os, subprocess
for path in ("/box/left", "/tmp/left", "/dev/shm/left"):
    open(path, "w").write("secret")
subprocess.Popen(["/bin/sleep", "60"], start_new_session=True)
print(os.getpid(), flush=True)
"""
    look = """
import json, os
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
names = [open(f"/proc/{p}/comm").read().strip() for p in pids]
print(json.dumps({"files": [p for p in ("/box/left", "/tmp/left", "/dev/shm/left")
                            if os.path.exists(p)], "names": names,
                  "box": sorted(os.listdir("/box"))}))
"""
    warm_up()
    first = py(dirty)
    assert first.verdict is Verdict.OK, (first.message, first.stderr)
    _pool.settle()
    second = py(look)
    assert warm_takes[-1] is not None
    seen = json.loads(second.stdout)
    assert seen["files"] == [] and seen["box"] == []
    assert "sleep" not in seen["names"], seen["names"]


def test_limits_are_set_per_run_on_a_prepared_box(warm_takes: list[Box | None]) -> None:
    hog = "x = bytearray({n} * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); print('ok')"
    warm_up(limits={"memory": "256M"})
    small = py(hog.format(n=96), {"memory": "48M"})
    assert warm_takes[-1] is not None
    assert small.verdict is Verdict.MEMORY_LIMIT and small.oom_killed, small
    _pool.settle()
    # Touching 300 MiB takes seconds of CPU in the emulated v2 guest: only memory is under test.
    large = py(hog.format(n=300),
               {"memory": "512M", "cpu_time": 2 * SCALE, "wall_time": 4 * SCALE})
    assert warm_takes[-1] is not None
    assert large.verdict is Verdict.OK, (large.verdict, large.message)
    assert large.memory_peak >= 300 * MiB
    _pool.settle()
    forks = py("import os\nfor _ in range(20):\n    os.fork() or os._exit(0)", {"pids": 4})
    assert warm_takes[-1] is not None
    assert forks.verdict is Verdict.RUNTIME_ERROR, (forks.verdict, forks.stderr)
    assert b"BlockingIOError" in forks.stderr or b"Resource temporarily" in forks.stderr
    _pool.settle()
    nofile = py("import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])",
                {"open_files": 37})
    assert warm_takes[-1] is not None and nofile.stdout == b"37\n"


def test_measurements_belong_to_the_run_alone(warm_takes: list[Box | None]) -> None:
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    warm_up(spin)
    busy = py(spin)
    _pool.settle()
    idle = sandbox.run(["/bin/true"])
    assert warm_takes[-2] is not None and warm_takes[-1] is not None
    assert 0.3 <= busy.cpu_time < 0.3 + 0.3 * SCALE, busy.cpu_time
    # Preparing the box (namespaces, mounts, seccomp) is not the program's time or memory:
    # an exec of /bin/true costs ~1 ms here (SCALE: slower machines, e.g. the emulated v2
    # guest, where it costs ~20).
    assert idle.cpu_time < 0.01 * SCALE, idle.cpu_time
    assert idle.wall_time < 0.03 * SCALE, idle.wall_time
    assert idle.memory_peak < 8 * MiB, idle.memory_peak


def test_stdin_files_and_copy_out_on_a_warm_box(warm_takes: list[Box | None]) -> None:
    code = "import sys; d = open('/box/in.txt').read(); open('/box/out', 'w').write(d + sys.stdin.read())"
    for i in range(3):
        r = py(code, stdin=f"stdin{i}".encode(), files={"in.txt": f"file{i}".encode()},
               copy_out=["out"])
        assert r.verdict is Verdict.OK, (r.message, r.stderr)
        assert r.files["out"] == f"file{i}stdin{i}".encode()
        _pool.settle()
    assert warm_takes[-1] is not None


def test_a_prepared_box_killed_from_outside_is_not_the_runs_problem(
        warm_takes: list[Box | None]) -> None:
    warm_up()
    boxes = _pool.prepared()
    assert boxes
    for box in boxes:
        assert box.cgroup is not None
        for pid in box.cgroup.procs():  # init, payload and keeper of a box we made
            with contextlib.suppress(ProcessLookupError):  # gone with init's namespace
                os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    results = [py("print('fine')") for _ in range(3)]
    assert [r.verdict for r in results] == [Verdict.OK] * 3, [r.message for r in results]


def test_many_threads_share_the_pool() -> None:
    failures: list[str] = []

    def worker(n: int) -> None:
        for i in range(15):
            r = sandbox.run(["/bin/echo", f"{n}-{i}"])
            if r.stdout != f"{n}-{i}\n".encode():
                failures.append(f"{n}-{i}: {r.verdict} {r.stdout!r} {r.message}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_run_too_large_for_a_go_message_runs_cold(warm_takes: list[Box | None]) -> None:
    warm_up()
    long_args = ["x" * 1000] * 100  # 100 kB of arguments: more than one "go" message
    r = sandbox.run(["/bin/echo", *long_args])
    assert r.verdict is Verdict.OK and len(r.stdout) == 100 * 1001
    assert warm_takes[-1] is None


def test_a_forked_child_uses_boxes_of_its_own() -> None:
    warm_up()
    parents = {id(box) for box in _pool.prepared()}
    assert parents

    def in_child() -> bool:  # its own pool, its own runs
        fresh = _pool.prepared() == []  # the parent's boxes are not the child's
        return fresh and all(sandbox.run(["/bin/echo", "child"]).stdout == b"child\n"
                             for _ in range(3))

    in_forked_child(in_child, _pool.drain)
    # The parent's prepared boxes survived the child and still work.
    assert {id(box) for box in _pool.prepared()} == parents
    assert sandbox.run(["/bin/echo", "parent"]).stdout == b"parent\n"


def test_a_process_that_exits_leaves_no_box(host_env: dict[str, str]) -> None:
    script = ("import sandbox\n"
              "for _ in range(4): assert sandbox.run(['/bin/true']).ok\n"
              "from sandbox import _pool\nassert _pool.prepared()\nprint('done')\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env=host_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert out == b"done\n", err
    # Its prepared and retired boxes went with it: no cgroup named after it remains.
    left = [d for d in sandbox.cgroups.backend().box_dirs()
            if os.path.basename(d).startswith(f"box-{proc.pid}-")]
    assert left == []


def test_draining_leaves_no_cgroup() -> None:
    warm_up()
    assert _pool.prepared()
    _pool.drain()
    assert _pool.prepared() == []
    assert our_box_cgroups() == set()


def test_a_program_cannot_reach_the_box_prepared_next_to_it(
        warm_takes: list[Box | None]) -> None:
    attack = """
import json, os, signal
seen = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
try:
    os.kill(-1, signal.SIGKILL)  # every process it may signal (its own namespace only)
except OSError:
    pass
print(json.dumps(seen), flush=True)
"""
    warm_up()
    waiting = _pool.prepared()
    assert waiting and all(box.wait_ready(5) for box in waiting)
    before = {id(box): box.helper_pids(root_only=False) for box in waiting}
    result = py(attack)
    # It saw only its own namespace: init, itself (and the keeper, and maybe a child).
    assert all(pid < 10 for pid in json.loads(result.stdout.splitlines()[0])), result.stdout
    # The boxes that waited beside it (all but the one it ran in) are untouched.
    beside = [box for box in waiting if box in _pool.prepared()]
    assert beside, "no box waited beside the run"
    for box in beside:
        assert box.still_prepared()
        assert box.helper_pids(root_only=False) == before[id(box)]
    _pool.settle()
    assert py("print('next')").stdout == b"next\n" and warm_takes[-1] is not None


def test_the_one_shot_cli_runs_cold_and_leaves_the_setting_alone(
        warm_takes: list[Box | None]) -> None:
    from sandbox import cli

    before = os.environ.get("SANDBOX_POOL")
    _pool.settle()
    waiting = len(_pool.prepared())
    assert cli.main(["run", "--", "/bin/true"]) == 0
    _pool.settle()
    # The one-shot run never asks the pool (a CLI process does not even import it), and no
    # box is prepared for a run that will not come.
    assert warm_takes == []
    assert len(_pool.prepared()) == waiting
    assert os.environ.get("SANDBOX_POOL") == before
