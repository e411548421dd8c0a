"""Runs last in the hostile suite (file order): after every attack, the host is as it was.

No process of any of our boxes is left (none with our box uids, no unreaped helper), no box
cgroup of ours remains in any hierarchy, the host's mount table has not grown, the canary
files and kernel settings are unchanged, and no IPC object or /dev/shm entry appeared.
"""

from __future__ import annotations

import time

from conftest import HostSnapshot, snapshot
from hostile_support import HostSecret, leftover_processes, our_cgroups

# What the hostile programs create in /dev/shm and as System V IPC keys.
BOX_NAMES = {"left", "x", "hoard"}
BOX_IPC_KEYS = {0x6C656674, 0x6B6F6F6C}


def _settled(check: object, attempts: int = 50) -> object:
    """The value of `check()` once it is empty, or its last value. Reaping a process and
    removing its cgroup take a moment after a run returns; a leftover stays."""
    assert callable(check)
    value = check()
    for _ in range(attempts):
        if not value:
            break
        time.sleep(0.02)
        value = check()
    return value


def test_no_box_process_is_left() -> None:
    assert _settled(leftover_processes) == []


def test_no_box_cgroup_is_left() -> None:
    assert _settled(our_cgroups) == []


def test_host_unchanged(host_before: HostSnapshot, secret: HostSecret) -> None:
    after = snapshot((str(secret.path),))
    assert after.mounts == host_before.mounts, "the host's mount table changed"
    assert after.digests == host_before.digests, "a canary file changed"
    assert after.planted == host_before.planted == ()
    assert after.hostname == host_before.hostname
    # Other software (a test database) may come and go here; none of the boxes' names may.
    assert not after.dev_shm & BOX_NAMES, after.dev_shm & BOX_NAMES
    assert after.sysv_keys.isdisjoint(BOX_IPC_KEYS), after.sysv_keys & BOX_IPC_KEYS
    assert secret.path.read_bytes() == secret.content
    assert secret.path.stat().st_mode & 0o777 == 0o600
