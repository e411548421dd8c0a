"""Measurement accuracy: memory_peak of the whole box, cpu_time summed over every process and
thread and equal to what the same program costs outside, wall_time of sleepers."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import pytest

import sandbox
from sandbox import Result, Verdict, _pool

BOX_PYTHON = "/usr/bin/python3"
MiB = 1 << 20
BoxPy = Callable[..., Result]

LOOP = "import sys\nx = 0\nfor i in range(int(sys.argv[1])):\n    x += i * i\n"


def _host_cpu(argv: list[str]) -> float:
    """CPU seconds (user + system) of one child process on the host, from wait4's rusage."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        pid = os.posix_spawn(argv[0], argv, {"PATH": "/usr/bin:/bin"}, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)])
    finally:
        os.close(devnull)
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_utime + usage.ru_stime


def test_touching_100_mib_reports_a_peak_between_100_and_130_mib(box_py: BoxPy) -> None:
    r = box_py("data = b'\\x01' * (100 << 20); print(len(data))", {"memory": "512M"})
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert 100 * MiB <= r.memory_peak <= 130 * MiB, r.memory_peak / MiB


def test_peak_is_the_whole_box_not_one_process(box_py: BoxPy) -> None:
    # Two processes hold 50 MiB each at the same time: the box's peak counts both.
    code = r"""
import os
r, w = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
data = b'\x02' * (50 << 20)
if pid == 0:
    os.write(w, b'1')
    os.read(r2, 1)
    os._exit(0)
os.read(r, 1)
os.write(w2, b'1')
os.waitpid(pid, 0)
"""
    r = box_py(code, {"memory": "512M"})
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert 100 * MiB <= r.memory_peak <= 130 * MiB, r.memory_peak / MiB


def test_tmpfs_pages_count_as_box_memory(box_py: BoxPy) -> None:
    r = box_py("open('/tmp/f', 'wb').write(b'\\x03' * (40 << 20))",
               {"memory": "256M", "disk": "64M"})
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert r.memory_peak >= 40 * MiB


def test_a_trivial_run_costs_almost_nothing() -> None:
    # The sandbox's own setup (namespaces, mounts, its helper) is not billed to the program.
    r = sandbox.run(["/bin/true"])
    assert r.verdict is Verdict.OK
    assert r.cpu_time < 0.02
    assert r.memory_peak < 8 * MiB
    assert r.wall_time < 0.5


def test_wall_time_of_a_sleeper(box_py: BoxPy) -> None:
    r = box_py("import time; time.sleep(0.3)")
    assert r.verdict is Verdict.OK
    assert 0.3 <= r.wall_time <= 0.8
    assert r.cpu_time < 0.1


def test_cpu_time_matches_the_same_loop_outside_within_10_percent() -> None:
    argv = [BOX_PYTHON, "-I", "-c", LOOP]
    # Calibrate the loop to about 0.3 s of CPU on this machine.
    n = 1_000_000
    for _ in range(3):
        cpu = _host_cpu([*argv, str(n)])
        n = int(n * 0.3 / max(cpu, 0.01))
        if 0.24 <= cpu <= 0.36:
            break
    # Other load on the machine makes the same loop's cost drift by more than 10% over
    # seconds (on this VM one run in six strays by 15-25%, host or box alike), so compare
    # neighbours: each box run with a host run right next to it (alternating which goes
    # first), nine pairs, and take the median of the ratios. A shared CI machine still had one
    # set of nine drift to 1.12, so up to three sets are taken: an accounting error (the
    # helper's CPU counted, a child's missed) is systematic and fails every one of them.
    tries = []
    for _attempt in range(3):
        host, box = _paired_runs(argv, n)
        assert 0.15 <= statistics.median(host) <= 0.6, f"calibration failed: {host}"
        ratio = statistics.median(b / h for b, h in zip(box, host, strict=True))
        tries.append((round(ratio, 3), box, host))
        if 0.9 <= ratio <= 1.1:
            return
    pytest.fail(f"box/host CPU ratio outside 0.9-1.1 in every try: {tries}")


def _paired_runs(argv: list[str], n: int) -> tuple[list[float], list[float]]:
    host: list[float] = []
    box: list[float] = []
    for i in range(9):
        for side in ("host", "box") if i % 2 == 0 else ("box", "host"):
            # The work a run leaves for later (the pool preparing the next box, the kernel
            # tearing down the last one's namespaces, with IPIs to every CPU) must not land
            # on either side's loop: this compares the loops, not the background.
            _pool.settle()
            time.sleep(0.05)
            if side == "host":
                host.append(_host_cpu([*argv, str(n)]))
            else:
                r = sandbox.run([*argv, str(n)], {"cpu_time": 5})
                assert r.verdict is Verdict.OK, (r.message, r.stderr)
                box.append(r.cpu_time)
    return host, box


SELF_REPORT = r"""
import resource, sys
sys.stdout.write(repr(sum(sum(resource.getrusage(who)[:2]) for who in
                          (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))))
"""


def test_cpu_summed_over_threads(box_py: BoxPy) -> None:
    # hashlib releases the GIL on large buffers: both threads really run at once.
    code = r"""
import hashlib, threading, time
buf = b'x' * (1 << 20)
def spin():
    h = hashlib.sha256()
    while time.thread_time() < 0.5:
        h.update(buf)
threads = [threading.Thread(target=spin) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
""" + SELF_REPORT
    r = box_py(code, {"cpu_time": 5})
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert 0.95 <= r.cpu_time <= 1.25, r.cpu_time
    # The kernel's per-process account agrees with the box's.
    assert abs(r.cpu_time - float(r.stdout)) <= 0.05 * r.cpu_time + 0.02


def test_cpu_summed_over_processes(box_py: BoxPy) -> None:
    code = r"""
import os, time
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        end = time.process_time() + 0.4
        while time.process_time() < end:
            pass
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
""" + SELF_REPORT
    r = box_py(code, {"cpu_time": 5})
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert 0.78 <= r.cpu_time <= 1.05, r.cpu_time
    assert abs(r.cpu_time - float(r.stdout)) <= 0.05 * r.cpu_time + 0.02


def test_cpu_of_orphans_killed_at_the_end_is_still_counted(box_py: BoxPy) -> None:
    # A daemon spinning after the payload exits is killed with the box; what it burnt
    # before that still belongs to the box (the cgroup counter, not the payload's rusage).
    code = r"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while time.process_time() < 0.3:
            pass
        open("/box/burnt", "w").close()
        while True:
            pass
    os._exit(0)
os.wait()
while not os.path.exists("/box/burnt"):
    time.sleep(0.01)
"""
    r = box_py(code, {"cpu_time": 5})
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert r.cpu_time >= 0.3, r.cpu_time
