"""Process attacks: the whole box must die together (DESIGN 5.5), nothing may outlive it,
and nothing inside may break the box's own bookkeeping (its init, the verdict)."""

from __future__ import annotations

from hostile_support import (
    Hostile,
    assert_no_escape,
    assert_verdict,
    describe,
    leftover_processes,
    lines,
)

from sandbox import Verdict


def test_fork_bomb_is_contained(hostile: Hostile) -> None:
    # The pids cgroup stops the growth; the failing forks burn CPU until the CPU limit. Each
    # failed fork has already copied the address space when the pids check refuses it, and
    # the kernel frees task memory lazily: on a busy host that churn can reach the memory
    # limit first. Both are the box's own limits doing their job.
    result = hostile.c("fork_bomb", limits={"cpu_time": 0.5, "pids": 32, "wall_time": 5})
    assert_no_escape(result)
    assert result.verdict in (Verdict.TIME_LIMIT, Verdict.MEMORY_LIMIT), describe(result)
    assert result.wall_time < 5, describe(result)
    assert leftover_processes() == []


def test_setsid_double_fork_daemon_dies_with_the_box(hostile: Hostile) -> None:
    # The daemon holds stdout open for a minute: a supervisor waiting for EOF would hang, and
    # one that only waits for its child would leave the daemon running on the host.
    result = hostile.c("daemon", limits={"wall_time": 10})
    assert_verdict(result, Verdict.OK)
    assert result.wall_time < 2, describe(result)
    assert lines(result)[-1] == "program done", describe(result)
    assert leftover_processes() == []


def test_stopped_children_are_killed(hostile: Hostile) -> None:
    result = hostile.c("stopped", "children", limits={"wall_time": 10})
    assert_verdict(result, Verdict.OK)
    assert result.wall_time < 2, describe(result)
    assert leftover_processes() == []


def test_stopped_program_ends_at_the_wall_limit(hostile: Hostile) -> None:
    # A stopped payload never exits and uses no CPU: only the wall clock can end it, and the
    # kill must reach stopped tasks.
    result = hostile.c("stopped", "self", limits={"wall_time": 0.5})
    assert_verdict(result, Verdict.TIME_LIMIT)
    assert "wall time" in result.message, describe(result)
    assert result.wall_time < 2, describe(result)
    assert leftover_processes() == []


def test_fifty_zombies_are_reaped(hostile: Hostile) -> None:
    result = hostile.c("zombies", limits={"pids": 64})
    assert_verdict(result, Verdict.OK)
    assert lines(result) == ["zombies 50"], describe(result)
    assert leftover_processes() == []


def test_kill_minus_one_reaches_only_the_box(hostile: Hostile) -> None:
    # If kill(-1) reached past the box it would take the test runner down with it; that this
    # test reports at all is half the assertion.
    result = hostile.c("kill_all")
    assert_verdict(result, Verdict.OK)
    assert lines(result) == ["kill(-1) = 0, child killed: 1"], describe(result)


def test_killing_the_parent_init_fails(hostile: Hostile) -> None:
    result = hostile.c("kill_parent")
    assert_verdict(result, Verdict.OK)
    assert lines(result) == ["init still there: parent 1"], describe(result)
