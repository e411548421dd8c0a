"""Resource attacks: memory by every route (DESIGN 5.7), CPU by threads, processes and the
kernel, the wall clock, output, file size, disk bytes and inodes. Each must end in the
right verdict with the box inside its limits, and the supervisor itself must stay small."""

from __future__ import annotations

import pytest
from hostile_support import (
    MIB,
    Hostile,
    assert_no_escape,
    assert_verdict,
    describe,
    lines,
    peak_rss,
    reset_peak_rss,
)

from sandbox import Result, Verdict
from sandbox.rootfs import inode_cap

MEMORY = 64 * MIB
# Writable tmpfs bigger than the memory limit, so the memory limit is what must stop a fill.
BIG_DISK = {"memory": "64M", "disk": "512M", "file_size": "1G"}


def assert_mle(result: Result) -> None:
    """Killed by the kernel's OOM killer inside the box's cgroup, and never above the limit."""
    assert_verdict(result, Verdict.MEMORY_LIMIT)
    assert result.oom_killed, describe(result)
    assert result.memory_peak <= MEMORY, describe(result)


@pytest.mark.parametrize("program", ["heap", "static_array", "memfd", "sysv_shm"])
def test_memory_hog_is_mle(hostile: Hostile, program: str) -> None:
    # heap: malloc+touch; static_array: 1 GiB .bss; memfd and System V shm: memory that no
    # process's heap owns, which must still be charged to the box.
    # file_size above the memory limit: RLIMIT_FSIZE also caps a memfd's size.
    result = hostile.c(program, limits={"memory": "64M", "file_size": "1G"})
    assert_mle(result)


@pytest.mark.parametrize("path", ["/dev/shm/x", "/tmp/x", "/box/x"])
def test_tmpfs_fill_is_charged_to_the_box(hostile: Hostile, path: str) -> None:
    # tmpfs pages are memory: with 512M of disk and 64M of memory, the memory limit must
    # stop the fill, not the host's RAM.
    result = hostile.c("fill_file", path, limits=BIG_DISK)
    assert_mle(result)


@pytest.mark.parametrize("path", ["/box/x", "/tmp/x", "/dev/shm/x"])
def test_disk_fill_stops_at_the_disk_cap(hostile: Hostile, path: str) -> None:
    # The other way round: 8M of disk, plenty of memory. The write must fail with ENOSPC at
    # the cap, and the run is an ordinary OK (the program handled the error).
    result = hostile.c("fill_file", path,
                       limits={"disk": "8M", "memory": "128M", "file_size": "64M"})
    assert_verdict(result, Verdict.OK)
    (line,) = lines(result)
    assert line.endswith("No space left on device"), describe(result)
    written = int(line.split()[2])
    assert 4 * MIB <= written <= 8 * MIB, describe(result)


def test_inode_fill_stops_at_the_inode_cap(hostile: Hostile) -> None:
    result = hostile.c("inode_fill", "/tmp", limits={"disk": "8M"})
    assert_verdict(result, Verdict.OK)
    (line,) = lines(result)
    made = int(line.split()[1])
    assert line.endswith("No space left on device"), describe(result)
    assert made <= inode_cap(8 * MIB), describe(result)


def test_oom_killer_cannot_be_aimed_at_init(hostile: Hostile) -> None:
    # The program lowers its oom_score_adj to init's and keeps its RSS below init's while
    # filling /dev/shm: if the kernel kills init, the supervisor gets no report and calls
    # it an internal error. The memory limit was exceeded by the program: MLE.
    result = hostile.c("oom_dodge", limits={**BIG_DISK, "memory": "32M", "wall_time": 5})
    assert lines(result)[:1] == ["oom_score_adj lowered to 0"], describe(result)
    assert_verdict(result, Verdict.MEMORY_LIMIT)
    assert result.oom_killed, describe(result)


def test_pipe_buffers_count_against_memory(hostile: Hostile) -> None:
    # Kernel memory: eight processes each fill as many 1 MiB pipes as their fd limit allows.
    # Either the cgroup stops it (MLE) or the kernel caps the buffers: the box never holds
    # more than its limit.
    result = hostile.c("pipe_hoard", limits={"memory": "64M", "open_files": 256, "wall_time": 5})
    assert_no_escape(result)
    assert result.memory_peak <= MEMORY, describe(result)
    assert result.verdict in (Verdict.MEMORY_LIMIT, Verdict.OK), describe(result)


def cpu_seen_by_the_program(result: Result) -> float:
    """The CPU the box's processes reported for themselves, summed: "cpu S" is one
    process's total over its threads, "cpu PID S" one of several processes."""
    last: dict[str, float] = {}
    for line in lines(result):
        fields = line.split()
        if fields[0] == "cpu":
            last[fields[1] if len(fields) == 3 else ""] = float(fields[-1])
    return sum(last.values())


def test_unix_socket_buffers_count_against_memory(hostile: Hostile) -> None:
    # Unread data in unix socket pairs with 8 MiB send buffers: 16 pairs in 4 processes
    # could queue ~1 GiB of kernel memory if the cgroup did not see it.
    result = hostile.c("unix_hoard", "16", "4", limits={"memory": "64M", "wall_time": 10})
    assert_no_escape(result)
    assert result.memory_peak <= MEMORY, describe(result)
    queued = sum(int(line.split()[1]) for line in lines(result) if line.startswith("queued"))
    if result.verdict is not Verdict.MEMORY_LIMIT:
        assert_verdict(result, Verdict.OK)
        assert queued <= MEMORY, describe(result)


@pytest.mark.parametrize("program", ["spin_threads", "spin_procs"])
def test_cpu_is_summed_over_threads_and_processes(hostile: Hostile, program: str) -> None:
    # Eight threads (or processes) spin. Summed, the box is stopped once all of them
    # together used 1 s. Counted per thread or per process, each could use 1 s: the
    # programs' own clocks would show ~8 s. (A generous wall limit, so a busy host cannot
    # turn this into a wall-clock TLE.)
    result = hostile.c(program, "8", limits={"cpu_time": 1.0, "wall_time": 20})
    assert_verdict(result, Verdict.TIME_LIMIT)
    assert "cpu time" in result.message, describe(result)
    assert 1.0 <= result.cpu_time < 1.6, describe(result)
    assert 0.5 < cpu_seen_by_the_program(result) < 1.4, describe(result)


def test_system_time_spin_is_tle(hostile: Hostile) -> None:
    result = hostile.c("sys_spin", limits={"cpu_time": 0.5})
    assert_verdict(result, Verdict.TIME_LIMIT)
    assert 0.5 <= result.cpu_time < 1.0, describe(result)


def test_ignoring_sigxcpu_is_still_tle(hostile: Hostile) -> None:
    # Also tries to raise RLIMIT_CPU back to infinity, which must fail.
    result = hostile.c("ignore_sigxcpu", limits={"cpu_time": 0.5})
    assert_verdict(result, Verdict.TIME_LIMIT)
    assert result.cpu_time < 1.0, describe(result)


def test_sleeper_is_wall_tle(hostile: Hostile) -> None:
    result = hostile.c("sleeper", limits={"cpu_time": 1, "wall_time": 0.5})
    assert_verdict(result, Verdict.TIME_LIMIT)
    assert "wall time" in result.message, describe(result)
    # Measured from the payload's start, after the box's setup: a few ms under the limit.
    assert 0.45 <= result.wall_time < 1.5, describe(result)
    assert result.cpu_time < 0.1, describe(result)


def test_stdout_flood_is_ole_and_supervisor_memory_stays_flat(hostile: Hostile) -> None:
    hostile.binary("stdout_flood")  # build first: gcc is not the supervisor
    before = reset_peak_rss()
    result = hostile.c("stdout_flood", limits={"output": "4M", "cpu_time": 5})
    growth = peak_rss() - before
    assert_verdict(result, Verdict.OUTPUT_LIMIT)
    assert "stdout" in result.message, describe(result)
    assert len(result.stdout) == 4 * MIB, describe(result)
    # The capture itself is 4 MiB; anything far above that means the supervisor buffered.
    assert growth < 24 * MIB, f"supervisor grew by {growth} bytes"


def test_both_streams_flood_is_ole(hostile: Hostile) -> None:
    hostile.binary("both_flood")
    before = reset_peak_rss()
    result = hostile.c("both_flood", limits={"output": "1M", "cpu_time": 5})
    growth = peak_rss() - before
    assert_verdict(result, Verdict.OUTPUT_LIMIT)
    assert len(result.stdout) <= MIB and len(result.stderr) <= MIB, describe(result)
    assert set(result.stdout) <= {ord("O")} and set(result.stderr) <= {ord("E")}
    assert growth < 16 * MIB, f"supervisor grew by {growth} bytes"


def test_file_size_overflow_is_ole(hostile: Hostile) -> None:
    result = hostile.c("fsize", limits={"file_size": "1M", "disk": "16M"})
    assert_verdict(result, Verdict.OUTPUT_LIMIT)
    assert "file size" in result.message, describe(result)
