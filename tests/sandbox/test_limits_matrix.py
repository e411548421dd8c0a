"""Every limit, hit and not hit, on whatever cgroup backend this host has.

The same module runs on cgroup v1 (this machine) and on cgroup v2 (natively on a v2 host, or
inside the throw-away v2 guest started by .ci/v2-tests.sh): nothing here depends on the
version. Under emulation guest code runs 20-80x slower, so two knobs, set by that script:

  SANDBOX_TEST_TIME_SCALE  multiplies the generous limits of runs that must NOT hit a time
                           limit (interpreter start-up alone takes ~0.7 s of CPU in the guest).
  SANDBOX_TEST_OVERSHOOT   how far past a 1 s CPU or wall limit a killed run may be measured
                           (default 0.05 s, the contract). Under TCG the supervisor's wake-up,
                           its kill and the helper's relay each run tens of times slower than
                           on hardware, so the script relaxes it; the limits themselves and
                           every other assertion stay exact.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

import sandbox
from sandbox import Verdict

from .conftest import our_box_cgroups

SCALE = float(os.environ.get("SANDBOX_TEST_TIME_SCALE", "1"))
OVERSHOOT = float(os.environ.get("SANDBOX_TEST_OVERSHOOT", "0.05"))
PY = "/usr/bin/python3"  # the system interpreter: the box binds /usr, not pyenv
MiB = 1 << 20

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root")


@pytest.fixture(autouse=True)
def no_box_cgroup_left() -> Iterator[None]:
    """The box cgroup of every run is gone once the pool has finished tearing the box down.
    (Processes and mounts are checked for every sandbox test by the leak guard of
    tests/sandbox/conftest.py.)"""
    yield
    left = our_box_cgroups()
    assert not left, f"box cgroups left behind: {left}"


def run(cmd: list[str], **limits: object) -> sandbox.Result:
    return sandbox.run(cmd, limits)


def py(code: str, **limits: object) -> sandbox.Result:
    limits.setdefault("cpu_time", 2 * SCALE)
    return run([PY, "-c", code], **limits)


# ---------- OK and exit codes ----------


def test_ok_run() -> None:
    r = run(["/bin/echo", "hello"])
    assert r.verdict is Verdict.OK, r.message
    assert (r.exit_code, r.signal, r.stdout, r.oom_killed) == (0, None, b"hello\n", False)
    assert 0 <= r.cpu_time < 0.5 * SCALE
    assert 0 < r.memory_peak < 64 * MiB


def test_exit_code_is_runtime_error() -> None:
    r = run(["/bin/sh", "-c", "echo partial; exit 3"])
    assert r.verdict is Verdict.RUNTIME_ERROR
    assert (r.exit_code, r.signal, r.stdout) == (3, None, b"partial\n")
    assert "code 3" in r.message


def test_signal_is_runtime_error() -> None:
    r = run(["/bin/sh", "-c", "kill -SEGV $$"])
    assert r.verdict is Verdict.RUNTIME_ERROR
    assert r.signal == signal.SIGSEGV and r.exit_code is None
    assert "SIGSEGV" in r.message


# ---------- CPU time ----------


def test_cpu_limit_hit_stops_promptly() -> None:
    r = run(["/bin/sh", "-c", "while :; do :; done"], cpu_time=1, wall_time=30 * SCALE)
    assert r.verdict is Verdict.TIME_LIMIT
    assert "cpu time limit" in r.message
    assert 1.0 <= r.cpu_time <= 1.0 + OVERSHOOT, r.cpu_time
    assert not r.oom_killed


def test_cpu_limit_sums_every_process() -> None:
    # Two spinning processes: the box's CPU, not one process's, is what counts.
    r = run(["/bin/sh", "-c", "while :; do :; done & while :; do :; done"],
            cpu_time=1, wall_time=30 * SCALE)
    assert r.verdict is Verdict.TIME_LIMIT
    # Killed when the two together reached 1 s (each alone would have needed 2 s of wall).
    assert 1.0 <= r.cpu_time <= 1.0 + OVERSHOOT, r.cpu_time


def test_cpu_limit_not_hit() -> None:
    r = run(["/bin/sh", "-c", "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo $i"],
            cpu_time=1 * SCALE)
    assert r.verdict is Verdict.OK, r.message
    assert r.stdout == b"30000\n"
    assert 0.001 < r.cpu_time < 1 * SCALE


# ---------- wall time ----------


def test_wall_limit_hit_by_sleeper() -> None:
    r = run(["/bin/sleep", "60"], cpu_time=1, wall_time=1)
    assert r.verdict is Verdict.TIME_LIMIT
    assert "wall time limit" in r.message
    assert r.wall_time <= 1.0 + OVERSHOOT, r.wall_time
    assert r.cpu_time < 0.5


def test_wall_limit_is_counted_from_the_programs_start() -> None:
    # Box setup (1-2 ms here, 100-300 ms under emulation) must not eat into the limit.
    r = run(["/bin/sleep", "60"], cpu_time=1, wall_time=1)
    assert r.verdict is Verdict.TIME_LIMIT
    assert r.wall_time >= 1.0, r.wall_time


def test_wall_limit_not_hit() -> None:
    r = run(["/bin/sleep", "0.2"], wall_time=2 * SCALE)
    assert r.verdict is Verdict.OK, r.message
    assert 0.2 <= r.wall_time < 2 * SCALE


# ---------- memory ----------


def test_memory_limit_hit_is_mle_with_oom_kill() -> None:
    r = py("b = bytearray(256 << 20)", memory="64M")
    assert r.verdict is Verdict.MEMORY_LIMIT, (r.verdict, r.message)
    assert r.oom_killed is True
    assert r.signal == signal.SIGKILL
    assert "memory limit 64 MiB" in r.message
    assert 32 * MiB <= r.memory_peak <= 65 * MiB, r.memory_peak


def test_oom_kill_of_a_child_is_mle_even_if_the_program_exits_0() -> None:
    code = (
        "import os\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    b = bytearray(256 << 20)\n"
        "    os._exit(0)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    r = py(code, memory="64M")
    assert r.verdict is Verdict.MEMORY_LIMIT, (r.verdict, r.message)
    assert r.oom_killed is True
    # The payload itself either saw its child killed (and exited 0) or was taken with it.
    assert (r.exit_code, r.stdout) in ((0, b"-9\n"), (None, b""))


def test_memory_peak_is_accurate() -> None:
    # bytearray(n) writes n zero bytes: 100 MiB really touched, plus the interpreter.
    r = py("b = bytearray(100 << 20); print(len(b))", memory="256M")
    assert r.verdict is Verdict.OK, r.message
    assert r.oom_killed is False
    assert 100 * MiB <= r.memory_peak <= 130 * MiB, r.memory_peak / MiB


@pytest.mark.parametrize("how", ["shm", "memfd"])
def test_tmpfs_and_memfd_pages_count_toward_memory(how: str) -> None:
    write = {
        "shm": "f = open('/dev/shm/x', 'wb')",
        "memfd": "import os; f = open(os.memfd_create('x'), 'wb')",
    }[how]
    code = f"{write}\nfor _ in range(100): f.write(bytes(1 << 20)); f.flush()\nprint('done')"
    fits = py(code, memory="256M", disk="256M", file_size="256M")
    assert fits.verdict is Verdict.OK, fits.message
    assert fits.stdout == b"done\n"
    assert 100 * MiB <= fits.memory_peak <= 130 * MiB, fits.memory_peak / MiB
    over = py(code, memory="64M", disk="256M", file_size="256M")
    assert over.verdict is Verdict.MEMORY_LIMIT, (over.verdict, over.message)
    assert over.stdout == b""
    assert over.memory_peak <= 65 * MiB


# ---------- pids ----------


def test_pids_limit_hit_fork_fails_and_box_ends() -> None:
    code = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(100):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(600)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "    except OSError:\n"
        "        break\n"
        "print(n)\n"
    )
    r = py(code, pids=10, wall_time=20 * SCALE)
    assert r.verdict is Verdict.OK, r.message
    # The payload counts, the box's init does not: exactly 9 children fit under pids=10.
    assert int(r.stdout) == 9, r.stdout
    assert r.wall_time < 10 * SCALE, "the sleeping children must die with the box"


def test_pids_limit_fork_bomb_ends() -> None:
    code = (
        "import os\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        pass\n"
    )
    r = py(code, pids=16, cpu_time=1 * SCALE, wall_time=5 * SCALE)
    assert r.verdict is Verdict.TIME_LIMIT, (r.verdict, r.message)


def test_pids_limit_not_hit() -> None:
    r = run(["/bin/sh", "-c", "for i in 1 2 3 4 5; do /bin/true & done; wait; echo ok"],
            pids=16)
    assert r.verdict is Verdict.OK, r.message
    assert r.stdout == b"ok\n"


# ---------- output and file size ----------


def test_stdout_flood_is_ole() -> None:
    r = run(["/usr/bin/yes"], output="1M", cpu_time=10 * SCALE)
    assert r.verdict is Verdict.OUTPUT_LIMIT, r.message
    assert "stdout" in r.message
    assert r.stdout == b"y\n" * (512 * 1024)


def test_stdout_at_the_limit_is_ok() -> None:
    r = run(["/usr/bin/head", "-c", "1048576", "/dev/zero"], output="1M")
    assert r.verdict is Verdict.OK, r.message
    assert r.stdout == bytes(MiB)


def test_file_size_limit_hit_is_ole() -> None:
    r = run(["/bin/dd", "if=/dev/zero", "of=/box/f", "bs=64k", "count=64"], file_size="1M")
    assert r.verdict is Verdict.OUTPUT_LIMIT, (r.verdict, r.message)
    assert "file size limit" in r.message
    assert r.signal == signal.SIGXFSZ


def test_file_size_limit_not_hit() -> None:
    r = sandbox.run(["/bin/dd", "if=/dev/zero", "of=/box/f", "bs=64k", "count=16"],
                    {"file_size": "2M"}, copy_out=["f"])
    assert r.verdict is Verdict.OK, r.message
    assert r.files["f"] == bytes(MiB)
