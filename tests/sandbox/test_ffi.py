"""sandbox/_ffi.py: C calls built on _ctypes (the one-shot CLI does not import ctypes) give
what the ctypes package gives for the same calls."""

from __future__ import annotations

import ctypes
import errno
import os
import threading

import pytest

from sandbox import _ffi, _syscalls, seccomp
from sandbox._interrupts import deferred


def test_libseccomp_version_matches_ctypes() -> None:
    class Version(ctypes.Structure):
        _fields_ = (("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint))

    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_version.restype = ctypes.POINTER(Version)
    got = lib.seccomp_version().contents
    assert seccomp._libseccomp_version() == f"{got.major}.{got.minor}.{got.micro}"


def test_a_missing_library_is_oserror_as_with_ctypes() -> None:
    with pytest.raises(OSError):
        _ffi.library("libdoes-not-exist.so.9")


def test_syscall_returns_results_and_errno() -> None:
    # getpid through syscall(2): the long result comes back as an int.
    assert _syscalls._syscall(39) == os.getpid()
    # A refused call: -1 and errno, read through the saved errno as ctypes' use_errno does.
    with pytest.raises(OSError) as refused:
        _syscalls.detached_tmpfs({"no-such-option": "1"})
    assert refused.value.errno == errno.EINVAL
    assert "no-such-option" in str(refused.value)


def test_detached_tmpfs_is_a_usable_mount() -> None:
    fd = _syscalls.detached_tmpfs({"size": "1m", "mode": "0700"})
    try:
        root = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        try:
            out = os.open("probe", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=root)
            os.write(out, b"x" * 4096)
            os.close(out)
            assert os.listdir(root) == ["probe"]
            with pytest.raises(OSError) as full:  # size=1m is enforced: it is a real tmpfs
                out = os.open("big", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=root)
                try:
                    for _ in range(64):  # (a write that fills it is partial; the next fails)
                        os.write(out, b"y" * (64 << 10))
                finally:
                    os.close(out)
            assert full.value.errno == errno.ENOSPC
        finally:
            os.close(root)
    finally:
        os.close(fd)


def test_interrupt_deferral_outside_the_main_thread_just_runs() -> None:
    # (Python refuses signal handlers off the main thread; deferral must not raise there.)
    ran: list[bool] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            with deferred():
                ran.append(True)
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(10)
    assert ran == [True] and errors == []


def test_interrupt_deferral_in_the_main_thread_holds_sigint() -> None:
    import signal

    with pytest.raises(KeyboardInterrupt), deferred():
        os.kill(os.getpid(), signal.SIGINT)
        held = True  # reached: the interrupt waited for the section's end
    assert held
