"""Attacks through syscalls the default seccomp policy must block (DESIGN 5.6).

Calls that can only be an attack end the run: verdict SV, `blocked_syscall` names the call,
and the call never returns to the program (each program prints ESCAPED if it does). Calls
that runtimes probe (io_uring_setup, clone3) fail with ENOSYS and the program goes on.
"""

from __future__ import annotations

import signal

import pytest
from hostile_support import Hostile, assert_no_escape, assert_sv, assert_verdict, describe, lines

from sandbox import Verdict

# (program, argument or None, the syscall the result must name)
BLOCKED = [
    # Reaching into another process: init's memory, registers, fds.
    ("ptrace_attach", None, "ptrace"),
    ("process_vm_readv", None, "process_vm_readv"),
    # New or foreign namespaces: where user-namespace root starts its escalations.
    ("unshare_user", None, "unshare"),
    ("setns_self", None, "setns"),
    ("clone_ns", "clone", "clone"),
    # Changing the filesystem view, with the old and the new mount API.
    ("mount_tmpfs", None, "mount"),
    ("mount_api", None, "fsopen"),
    ("open_tree_attr", None, "open_tree_attr"),
    ("chroot_escape", None, "chroot"),
    ("shocker", None, "open_by_handle_at"),
    # Kernel keyrings are shared with the host.
    ("keyring", "keyctl", "keyctl"),
    ("keyring", "add_key", "add_key"),
    ("keyring", "request_key", "request_key"),
    # Big kernel attack surfaces.
    ("io_uring", "register", "io_uring_register"),
    ("bpf_load", None, "bpf"),
    ("perf_event", None, "perf_event_open"),
    ("userfaultfd", None, "userfaultfd"),
    # Out of the network namespace, to the hypervisor.
    ("vsock", "socket", "socket"),
    ("vsock", "socketpair", "socketpair"),
    # Typing into a terminal; the 64-bit variant checks the filter masks the argument.
    ("tiocsti", "plain", "ioctl"),
    ("tiocsti", "highbits", "ioctl"),
    # Another ABI's syscall table: the architecture check.
    ("other_abi", "int80", "i386:getpid"),
    ("other_abi", "x32", "x32:getpid"),
    # The machine itself.
    ("kernel_admin", "finit_module", "finit_module"),
    ("kernel_admin", "kexec_load", "kexec_load"),
    ("kernel_admin", "reboot", "reboot"),
    ("kernel_admin", "clock_settime", "clock_settime"),
]


@pytest.mark.parametrize(("program", "arg", "syscall"), BLOCKED,
                         ids=[f"{p}-{a}" if a else p for p, a, _ in BLOCKED])
def test_blocked_syscall_ends_the_run(hostile: Hostile, program: str, arg: str | None,
                                      syscall: str) -> None:
    result = hostile.c(program, *([arg] if arg else []))
    assert_sv(result, syscall)
    assert result.signal is None and result.exit_code is None, describe(result)


def test_io_uring_probe_fails_softly(hostile: Hostile) -> None:
    # libuv (Node) probes io_uring_setup and falls back to epoll: the probe must fail with
    # ENOSYS, not end the run, so such runtimes keep working.
    result = hostile.c("io_uring", "setup")
    assert_verdict(result, Verdict.OK)
    assert lines(result) == ["io_uring_setup failed: ENOSYS"], describe(result)


def test_clone3_cannot_create_namespaces(hostile: Hostile) -> None:
    # clone3's flags live in memory the filter cannot read: it must fail as a whole (ENOSYS,
    # so glibc falls back to clone(2), whose flags the filter checks).
    result = hostile.c("clone_ns", "clone3")
    assert_verdict(result, Verdict.OK)
    assert lines(result) == ["clone3 failed: ENOSYS"], describe(result)


def test_blocked_call_in_one_thread_of_many_is_named(hostile: Hostile) -> None:
    # Three threads spin while a fourth calls ptrace: the name must still come back, and the
    # spinning threads must die with the box (no TLE: the run ends at the call).
    result = hostile.c("mt_ptrace", limits={"cpu_time": 5})
    assert_sv(result, "ptrace")
    assert result.wall_time < 2, describe(result)


def test_two_threads_blocked_at_once(hostile: Hostile) -> None:
    result = hostile.c("mt_two_blocked")
    assert_verdict(result, Verdict.SECURITY_VIOLATION)
    assert result.blocked_syscall in ("bpf", "userfaultfd"), describe(result)


def test_filter_follows_fork_and_exec(hostile: Hostile) -> None:
    # The call comes from /usr/bin/unshare, exec'd by /bin/sh in a forked child.
    result = hostile.c("child_blocked")
    assert_sv(result, "unshare")


def test_nested_listener_cannot_let_a_blocked_call_through(hostile: Hostile) -> None:
    # A program-installed USER_NOTIF filter answering "continue" would run ptrace if its
    # listener could take the call; the kernel refuses a second listener in the chain.
    result = hostile.c("nested_listener")
    assert_no_escape(result)
    assert result.exit_code != 42, describe(result)
    assert result.verdict in (Verdict.RUNTIME_ERROR, Verdict.SECURITY_VIOLATION), describe(result)


def test_sigsys_cannot_forge_a_security_verdict(hostile: Hostile) -> None:
    # Dying of SIGSYS and writing fake report lines to every fd: still an ordinary crash.
    result = hostile.c("forge_sigsys")
    assert_verdict(result, Verdict.RUNTIME_ERROR)
    assert result.signal == signal.SIGSYS, describe(result)
    assert result.blocked_syscall is None, describe(result)
    assert result.message == "killed by SIGSYS", describe(result)


def test_blocked_syscall_without_seccomp_is_not_sv(hostile: Hostile) -> None:
    # Control: with the filter off the same call returns to the program (whatever it
    # returns) and the run is not SV: the verdict above comes from the filter alone.
    result = hostile.c("unshare_user", seccomp=None)
    assert result.verdict is Verdict.OK, describe(result)
    assert result.blocked_syscall is None
    assert b"ESCAPED unshare returned" in result.stdout, describe(result)


def test_signal_storm_cannot_hide_a_blocked_call(hostile: Hostile) -> None:
    # A signal that interrupts the kernel's wait for init withdraws the notification before
    # init reads it: the blocked call returns EINTR and, unless init notices, the program
    # exits 0 with an ordinary verdict. The race is won only sometimes, so try thirty times;
    # every run must be SV. (The call itself never runs either way: this is about the
    # verdict, which must not be hideable.)
    outcomes = [hostile.c("hide_blocked", limits={"cpu_time": 5}) for _ in range(30)]
    hidden = [r for r in outcomes if r.verdict is not Verdict.SECURITY_VIOLATION]
    for result in outcomes:
        assert_no_escape(result)
    assert hidden == [], f"{len(hidden)}/30 runs hid the call; first: {describe(hidden[0])}"
    assert all(r.blocked_syscall for r in outcomes)
