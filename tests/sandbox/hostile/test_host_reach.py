"""Reaching the host from inside: kernel and process secrets in /proc, host files, system
directories, the environment and fds of the process that started the box, the loopback
network, setuid binaries (DESIGN 5.2, 5.3, 5.8). Also the box's identity: uid map and
hostname."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Listener
from hostile_support import (
    PROGRAMS,
    Hostile,
    HostSecret,
    assert_verdict,
    describe,
    held_box_uids,
    lines,
)

from sandbox import Verdict

# What a clean box environment may hold: the sandbox's defaults, never the host's.
CLEAN_ENV_NAMES = {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "TZ", "PWD", "LC_CTYPE"}


def test_proc_kernel_secrets_are_masked(hostile: Hostile) -> None:
    result = hostile.py("proc_secrets")
    assert_verdict(result, Verdict.OK)
    out = lines(result)
    # Masked with /dev/null, or absent where the kernel has no kcore.
    assert {"/proc/kcore: 0 bytes", "/proc/kcore: No such file or directory"} & set(out), out
    assert "/proc/kallsyms: 0 bytes" in out, describe(result)
    # The pid namespace shows the box alone: init (1) and the program, nothing of the host.
    pids = json.loads(out[-1].removeprefix("pids "))
    assert len(pids) <= 3 and 1 in pids, describe(result)


def test_other_processes_environ_is_out_of_reach(hostile: Hostile,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The test runner itself holds the secret: in a shared pid namespace the box would find
    # it in /proc/<runner>/environ.
    token = "hostile-env-" + secrets.token_hex(8)
    monkeypatch.setenv("HOSTILE_SECRET", token)
    result = hostile.py("environ_peek", token)
    assert_verdict(result, Verdict.OK)
    assert token.encode() not in result.stdout, describe(result)
    assert lines(result)[-1] == "done", describe(result)
    # init is host root: even its environ (empty by design) is closed to the box.
    assert "1/environ: Permission denied" in lines(result), describe(result)


def test_host_files_through_proc_links_are_unreachable(hostile: Hostile) -> None:
    result = hostile.py("proc_root")
    assert_verdict(result, Verdict.OK)
    out = lines(result)
    # Absent from the box entirely, not merely unreadable.
    assert "/etc/shadow: No such file or directory" in out, describe(result)
    assert "/proc/self/root/etc/shadow: No such file or directory" in out, describe(result)
    assert "/proc/1/root/etc/shadow: Permission denied" in out, describe(result)
    assert "/run/pysandbox/slots/0: No such file or directory" in out, describe(result)


def test_root_only_host_file_is_unreadable_even_when_visible(hostile: Hostile,
                                                             secret: HostSecret) -> None:
    # Bind the secret's directory in: the file is there, but it belongs to host root, who
    # is not mapped in the box's user namespace; the box's root has no power over it.
    result = hostile.py("read_root_only", str(secret.path), binds=[str(secret.directory)])
    assert_verdict(result, Verdict.OK)
    assert secret.content not in result.stdout, describe(result)
    out = lines(result)
    assert "read: Permission denied" in out, describe(result)
    assert "st_uid 65534" in out, describe(result)  # host root shows as the overflow uid


def test_system_writes_fail_and_the_host_is_unchanged(hostile: Hostile) -> None:
    hostname = socket.gethostname()
    with open("/proc/sys/kernel/core_pattern") as handle:
        core_pattern = handle.read()
    result = hostile.py("write_system")
    assert_verdict(result, Verdict.OK)
    assert lines(result)[-1] == "hostname box", describe(result)
    assert socket.gethostname() == hostname
    with open("/proc/sys/kernel/core_pattern") as handle:
        assert handle.read() == core_pattern
    for planted in ("/usr/bin/hostile-planted", "/lib/hostile-planted", "/hostile-planted"):
        assert not os.path.lexists(planted)


def test_host_environment_does_not_leak(hostile: Hostile,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    token = "hostile-env-" + secrets.token_hex(8)
    monkeypatch.setenv("HOSTILE_SECRET", token)
    result = hostile.py("env_dump", env={"GIVEN": "yes"})
    assert_verdict(result, Verdict.OK)
    env = json.loads(result.stdout)
    assert token not in result.stdout.decode(), describe(result)
    assert env["GIVEN"] == "yes"
    assert set(env) - {"GIVEN"} <= CLEAN_ENV_NAMES, describe(result)


@pytest.fixture
def inheritable_secrets(secret: HostSecret) -> Iterator[list[int]]:
    """Open, inheritable fds in the test process: a root-only file and a connected socket."""
    fd = os.open(secret.path, os.O_RDONLY)
    os.set_inheritable(fd, True)
    left, right = socket.socketpair()
    left.set_inheritable(True)
    right.sendall(b"socket secret")
    try:
        yield [fd, left.fileno()]
    finally:
        os.close(fd)
        left.close()
        right.close()


def test_host_fds_do_not_leak(hostile: Hostile, secret: HostSecret,
                              inheritable_secrets: list[int]) -> None:
    result = hostile.py("fd_dump")
    assert_verdict(result, Verdict.OK)
    report = json.loads(result.stdout)
    assert report["open"] == {}, describe(result)
    # 0-2, plus the one listdir itself opened.
    assert report["fds"] in ([0, 1, 2], [0, 1, 2, 3]), describe(result)
    assert secret.content not in result.stdout


def test_host_loopback_is_unreachable(hostile: Hostile, listener: Listener) -> None:
    result = hostile.py("loopback", str(listener.port), listener.abstract,
                        limits={"wall_time": 10})
    assert_verdict(result, Verdict.OK)
    assert listener.accepted == [], listener.accepted
    assert lines(result)[-1] == "interfaces ['lo']", describe(result)


def test_setuid_binaries_from_usr_bin_gain_nothing(hostile: Hostile) -> None:
    result = hostile.py("setuid_passwd", limits={"pids": 16})
    assert_verdict(result, Verdict.OK)
    out = lines(result)
    # Host root would show as 65534 (unmapped); the box's own root shows as 0.
    assert "passwd Uid: 0 0 0 0" in out, describe(result)
    assert "passwd CapEff: 0000000000000000" in out, describe(result)
    assert "passwd NoNewPrivs: 1" in out, describe(result)
    assert "/usr/bin/su 0" not in out, describe(result)


@pytest.fixture
def setuid_root_binary(hostile: Hostile, secret: HostSecret) -> Iterator[Path]:
    """Our own setuid-root program, in the (bindable) directory of the host secret."""
    target = secret.directory / "setuid_own"
    shutil.copy(hostile.binary_path("setuid_own"), target)
    os.chown(target, 0, 0)
    target.chmod(0o4755)
    try:
        yield target
    finally:
        target.unlink()


def test_own_setuid_root_binary_gains_nothing(hostile: Hostile, secret: HostSecret,
                                              setuid_root_binary: Path) -> None:
    # On the host this binary reads the root-only secret (checked first, so the test would
    # notice a broken fixture); in the box it must not.
    host = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           str(setuid_root_binary), str(secret.path)],
                          capture_output=True, check=False)
    assert b"ESCAPED read the secret" in host.stdout, host
    result = sandbox_run_bound(setuid_root_binary, secret)
    assert_verdict(result, Verdict.OK)
    out = lines(result)
    assert out[0] == "uid 0 euid 0", describe(result)
    assert "Uid:\t0\t0\t0\t0" in out, describe(result)
    assert "CapEff:\t0000000000000000" in out, describe(result)
    assert out[-1] == "secret: Permission denied", describe(result)


def sandbox_run_bound(binary: Path, secret: HostSecret) -> object:
    import sandbox

    return sandbox.run([str(binary), str(secret.path)], {"cpu_time": 1, "memory": "64M"},
                       binds=[str(secret.directory)])


def test_identity_uid_map_and_hostname(hostile: Hostile) -> None:
    result = hostile.py("identity")
    assert_verdict(result, Verdict.OK)
    info = json.loads(result.stdout)
    # The box's root, and uid 1 for the seccomp keeper: each its own host uid of the slot.
    inside, outside, count, k_inside, k_outside, k_count = info["uid_map"].split()
    assert (inside, count, k_inside, k_count) == ("0", "1", "1", "1"), info["uid_map"]
    assert int(outside) in held_box_uids(), info["uid_map"]  # unprivileged, unique to the slot
    assert int(k_outside) == int(outside) + 1, info["uid_map"]
    assert info["gid_map"].split() == ["0", outside, "1", "1", k_outside, "1"], info["gid_map"]
    assert info["setgroups"].strip() == "deny"
    assert info["hostname"] == "box"
    assert info["ids"] == [0, 0, 0, 0, []], info
    for key in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
        assert int(info[key], 16) == 0, (key, info[key])
    assert info["NoNewPrivs"] == "1"
    assert info["Seccomp"] == "2"  # filter mode
    # A new session without a controlling terminal (TIOCSTI has nothing to type into).
    assert info["sid"] == info["pid"]
    assert info["tty"] != "opened"
    # The cgroup namespace hides the host's cgroup paths.
    assert all(line.endswith(":/") for line in info["cgroup"].splitlines()), info["cgroup"]


def test_programs_directory_is_complete() -> None:
    # Guard against a test silently running a missing program: every program is used.
    used = set()
    for module in Path(__file__).parent.glob("test_*.py"):
        text = module.read_text()
        used |= {p.stem for p in PROGRAMS.iterdir() if f'"{p.stem}"' in text}
    sources = {p.stem for p in PROGRAMS.iterdir() if p.suffix in (".c", ".py")}
    assert sources - used == set()
    assert len(sources) >= 40
