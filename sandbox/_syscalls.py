"""Wrappers for the few syscalls Python's os module lacks (3.11 has no os.unshare)."""

from __future__ import annotations

import os

from ._ffi import c_long, function, get_errno, library

# The C library already loaded into this process (ctypes.util.find_library would run
# ldconfig in a subprocess: milliseconds on every one-shot run).
_syscall = function(library(None), "syscall", c_long)

# x86_64 and the generic table share these numbers (they were added after the split).
SYS_FSOPEN = 430
SYS_FSCONFIG = 431
SYS_FSMOUNT = 432

FSOPEN_CLOEXEC = 0x1
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4


def _check(result: int, what: str) -> int:
    if result < 0:
        err = get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def detached_tmpfs(options: dict[str, str]) -> int:
    """A tmpfs mounted nowhere: returns a mount fd (O_CLOEXEC) usable with openat().

    The box's /box is made this way so that the host can fill it before the run and read it
    after, through the fd alone: no host path ever points into it, so nothing can leak or
    be left mounted if we crash (the mount dies with its last reference).
    """
    fs_fd = _check(_syscall(SYS_FSOPEN, b"tmpfs", FSOPEN_CLOEXEC), "fsopen tmpfs")
    try:
        for key, value in options.items():
            _check(
                _syscall(SYS_FSCONFIG, fs_fd, FSCONFIG_SET_STRING, key.encode(), value.encode(), 0),
                f"fsconfig {key}={value}",
            )
        _check(_syscall(SYS_FSCONFIG, fs_fd, FSCONFIG_CMD_CREATE, None, None, 0), "create tmpfs")
        return _check(
            _syscall(SYS_FSMOUNT, fs_fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV),
            "fsmount",
        )
    finally:
        os.close(fs_fd)


SYS_LANDLOCK_CREATE_RULESET = 444
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when it has none (not built, or not among the
    active security modules)."""
    version = int(_syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, version)
