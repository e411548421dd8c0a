"""Isolation properties of one box (DESIGN 5.2, 5.3, 5.4, 5.8), seen from inside and outside.

One probe run collects the facts (cheap); each test asserts one property of them.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

import sandbox
from sandbox import rootfs
from sandbox._slots import MAX_SLOTS, UID_BASE

BOX_PYTHON = "/usr/bin/python3"
DISK = 8 << 20

PROBE = r"""
import errno, json, os, socket, sys
bind = sys.argv[1]
facts = {}

def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))

def status():
    out = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out

listed = sorted(int(n) for n in os.listdir("/proc/self/fd"))
facts["fds"] = listed
facts["fds_still_open"] = [fd for fd in listed if fd > 2 and attempt(lambda: os.fstat(fd)) == "ok"]
facts["fd_targets"] = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)}
facts["pid"] = os.getpid()
facts["ppid"] = os.getppid()
facts["pids"] = sorted(int(n) for n in os.listdir("/proc") if n.isdigit())
facts["uid"] = [os.getuid(), os.geteuid(), os.getgid(), os.getegid()]
facts["uid_map"] = open("/proc/self/uid_map").read().split()
facts["gid_map"] = open("/proc/self/gid_map").read().split()
facts["setgroups"] = open("/proc/self/setgroups").read().strip()
facts["groups"] = os.getgroups()
facts["status"] = status()
facts["sid"] = os.getsid(0)
facts["pgid"] = os.getpgid(0)
facts["tty_nr"] = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[4])
facts["dev_tty"] = attempt(lambda: os.close(os.open("/dev/tty", os.O_RDWR)))
facts["env"] = dict(os.environ)
facts["cwd"] = os.getcwd()
facts["hostname"] = socket.gethostname()
facts["uname_node"] = os.uname().nodename
facts["etc_hostname"] = open("/etc/hostname").read()
facts["netdev"] = [l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]]
facts["sys_class_net"] = os.path.exists("/sys/class/net")
facts["ns"] = {n: os.readlink(f"/proc/self/ns/{n}") for n in
               ("net", "uts", "ipc", "pid", "user", "mnt", "cgroup")}
facts["cgroup"] = open("/proc/self/cgroup").read().split()
facts["mounts"] = [l.split(" - ")[0].split()[4:6] + l.split(" - ")[1].split()[:1]
                   for l in open("/proc/self/mountinfo")]
facts["root"] = sorted(os.listdir("/"))
facts["etc"] = sorted(os.listdir("/etc"))
facts["dev"] = {n: [os.lstat("/dev/" + n).st_mode, os.lstat("/dev/" + n).st_rdev]
                for n in os.listdir("/dev")}
facts["dev_full_write"] = attempt(lambda: open("/dev/full", "wb", buffering=0).write(b"x"))
facts["dev_null_write"] = attempt(lambda: open("/dev/null", "wb", buffering=0).write(b"x"))
facts["zero"] = open("/dev/zero", "rb").read(4).hex()
writes = {}
for path in ("/usr/probe", "/probe", "/etc/probe", "/bin/probe", "/lib/probe",
             "/proc/probe", bind + "/probe", "/box/probe", "/tmp/probe", "/dev/shm/probe",
             "/dev/probe"):
    writes[path] = attempt(lambda: open(path, "w").write("x"))
writes["/etc/passwd"] = attempt(lambda: open("/etc/passwd", "a").write("x"))
writes["/usr/bin/env"] = attempt(lambda: open("/usr/bin/env", "r+b").write(b"x"))
writes["mkdir /newdir"] = attempt(lambda: os.mkdir("/newdir"))
facts["writes"] = writes
facts["statvfs"] = {p: [os.statvfs(p).f_blocks * os.statvfs(p).f_frsize, os.statvfs(p).f_files]
                    for p in ("/box", "/tmp", "/dev/shm")}
facts["bind_listing"] = sorted(os.listdir(bind))
facts["bind_read"] = open(bind + "/data.txt").read()
import subprocess
facts["bind_exec"] = subprocess.run([bind + "/tool.sh"], capture_output=True).stdout.decode()
sock = socket.socket()
sock.settimeout(2)
facts["connect_host_port"] = attempt(lambda: sock.connect(("127.0.0.1", int(sys.argv[2]))))
print(json.dumps(facts))
"""


@pytest.fixture(scope="module")
def bind_dir() -> Iterator[str]:
    # Not under /tmp: the box gets its own /tmp, and binds there are refused.
    path = tempfile.mkdtemp(prefix="sandbox-bind-", dir="/var/tmp")
    try:
        os.chmod(path, 0o755)
        with open(os.path.join(path, "data.txt"), "w") as handle:
            handle.write("toolchain data\n")
        tool = os.path.join(path, "tool.sh")
        with open(tool, "w") as handle:
            handle.write("#!/bin/sh\necho tool ran\n")
        os.chmod(tool, 0o755)
        yield path
    finally:
        shutil.rmtree(path)


@pytest.fixture(scope="module")
def facts(bind_dir: str) -> Iterator[dict[str, Any]]:
    """One probe run, with things a leaky sandbox would pass on: a host secret in the
    environment, an inheritable fd, and a TCP listener on the host's loopback."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    secret_fd = os.open("/etc/hostname", os.O_RDONLY)
    os.set_inheritable(secret_fd, True)
    os.environ["SANDBOX_TEST_SECRET"] = "hunter2"
    try:
        r = sandbox.run([BOX_PYTHON, "-c", PROBE, bind_dir, str(listener.getsockname()[1])],
                        {"disk": DISK, "cpu_time": 5}, binds=[bind_dir])
    finally:
        del os.environ["SANDBOX_TEST_SECRET"]
        os.close(secret_fd)
        listener.close()
    assert r.verdict is sandbox.Verdict.OK, (r.message, r.stderr.decode())
    data: dict[str, Any] = json.loads(r.stdout)
    data["bind_dir"] = bind_dir
    yield data


def _mount(facts: dict[str, Any], point: str) -> tuple[set[str], str]:
    entries = [m for m in facts["mounts"] if m[0] == point]
    assert entries, f"{point} is not a mount point in the box"
    _, options, fstype = entries[-1]
    return set(options.split(",")), fstype


# ---------- user namespace, credentials ----------

def test_uid_zero_inside_mapped_to_unprivileged_host_uid(facts: dict[str, Any]) -> None:
    assert facts["uid"] == [0, 0, 0, 0]
    # Two lines: the box's root, and uid 1 for the seccomp keeper (its own host uid).
    inside, host, count, keeper_inside, keeper, keeper_count = (int(x) for x in facts["uid_map"])
    assert (inside, count, keeper_inside, keeper_count) == (0, 1, 1, 1)
    assert keeper == host + 1
    assert UID_BASE <= host < UID_BASE + MAX_SLOTS
    assert host >= 65536  # far from any real user or system uid
    with pytest.raises(KeyError):
        pwd.getpwuid(host)
    assert [int(x) for x in facts["gid_map"]] == [0, host, 1, 1, keeper, 1]
    assert facts["setgroups"] == "deny"
    assert facts["groups"] in ([], [0])


def test_no_capabilities_and_no_new_privs(facts: dict[str, Any]) -> None:
    status = facts["status"]
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[key], 16) == 0, (key, status[key])
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2"


def test_new_session_without_controlling_terminal(facts: dict[str, Any]) -> None:
    assert facts["sid"] == facts["pid"]
    assert facts["pgid"] == facts["pid"]
    assert facts["tty_nr"] == 0
    assert facts["dev_tty"] != "ok"


# ---------- pid namespace, /proc ----------

def test_payload_is_not_pid_one_and_sees_only_the_box(facts: dict[str, Any]) -> None:
    assert facts["pid"] != 1
    assert facts["ppid"] == 1  # the box's own tiny init
    # Besides init and itself, only the seccomp keeper (init's child, another uid).
    others = set(facts["pids"]) - {1, facts["pid"]}
    assert len(others) == 1, facts["pids"]


def test_fresh_proc_and_own_cgroup_root(facts: dict[str, Any]) -> None:
    options, fstype = _mount(facts, "/proc")
    assert fstype == "proc"
    assert {"nosuid", "nodev", "noexec"} <= options
    # cgroup namespace: the box's cgroup is the root of what it sees.
    assert facts["cgroup"] and all(line.endswith(":/") for line in facts["cgroup"])


def test_every_namespace_differs_from_the_host(facts: dict[str, Any]) -> None:
    for name, inside in facts["ns"].items():
        assert inside != os.readlink(f"/proc/self/ns/{name}"), name


# ---------- network, uts ----------

def test_only_loopback_and_no_sysfs(facts: dict[str, Any]) -> None:
    assert facts["netdev"] == ["lo"]
    assert facts["sys_class_net"] is False


def test_host_loopback_services_are_unreachable(facts: dict[str, Any]) -> None:
    assert facts["connect_host_port"] in {"ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH",
                                          "EPERM", "EACCES"}


def test_hostname_is_box(facts: dict[str, Any]) -> None:
    assert facts["hostname"] == facts["uname_node"] == "box"
    assert facts["etc_hostname"].strip() == "box"


# ---------- filesystem ----------

def test_root_holds_only_system_dirs_and_binds(facts: dict[str, Any]) -> None:
    allowed = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc",
               "tmp", "box", facts["bind_dir"].strip("/").split("/")[0]}
    assert set(facts["root"]) <= allowed
    assert {"usr", "box", "tmp", "proc", "dev", "etc"} <= set(facts["root"])
    assert facts["etc"] and set(facts["etc"]) <= {
        "passwd", "group", "hosts", "hostname", "ld.so.cache", "alternatives", "localtime"}


def test_minimal_dev_with_real_device_numbers(facts: dict[str, Any]) -> None:
    devices = {"null", "zero", "full", "random", "urandom"}
    dev = facts["dev"]
    assert devices <= set(dev)
    assert set(dev) <= devices | {"fd", "stdin", "stdout", "stderr", "shm", "pts", "ptmx"}
    for name in devices:
        mode, rdev = dev[name]
        assert stat.S_ISCHR(mode), name
        assert rdev == os.stat(f"/dev/{name}").st_rdev, name
    assert facts["dev_full_write"] == "ENOSPC"
    assert facts["dev_null_write"] == "ok"
    assert facts["zero"] == "00000000"


def test_system_dirs_and_root_are_read_only(facts: dict[str, Any]) -> None:
    writes = facts["writes"]
    for path in ("/usr/probe", "/probe", "/etc/probe", "/bin/probe", "/lib/probe",
                 "/etc/passwd", "/usr/bin/env", "mkdir /newdir", "/dev/probe"):
        assert writes[path] in {"EROFS", "EACCES", "EPERM"}, (path, writes[path])
    options, _ = _mount(facts, "/usr")
    assert {"ro", "nosuid", "nodev"} <= options
    options, _ = _mount(facts, "/")
    assert "ro" in options


def test_writable_scratch_is_capped_tmpfs(facts: dict[str, Any]) -> None:
    writes = facts["writes"]
    inode_cap = rootfs.inode_cap(DISK)
    for point in ("/box", "/tmp", "/dev/shm"):
        assert writes[f"{point}/probe"] == "ok", point
        options, fstype = _mount(facts, point)
        assert fstype == "tmpfs" and {"rw", "nosuid", "nodev"} <= options, point
        size, inodes = facts["statvfs"][point]
        assert size == DISK, point
        assert inodes == inode_cap, point
    assert facts["cwd"] == "/box"


def test_extra_binds_are_visible_read_only(facts: dict[str, Any]) -> None:
    assert facts["bind_listing"] == ["data.txt", "tool.sh"]
    assert facts["bind_read"] == "toolchain data\n"
    assert facts["bind_exec"] == "tool ran\n"
    assert facts["writes"][facts["bind_dir"] + "/probe"] in {"EROFS", "EACCES"}
    options, _ = _mount(facts, facts["bind_dir"])
    assert {"ro", "nosuid", "nodev"} <= options
    assert not os.path.exists(os.path.join(facts["bind_dir"], "probe"))


# ---------- what reaches the box ----------

def test_clean_environment(facts: dict[str, Any]) -> None:
    env = facts["env"]
    assert set(env) == {"PATH", "HOME", "LANG"}
    assert ".pyenv" not in env["PATH"] and env["HOME"] == "/box"
    assert "SANDBOX_TEST_SECRET" not in facts["env"]


def test_only_fds_zero_to_two(facts: dict[str, Any]) -> None:
    # The listing's own directory fd shows up too; it is closed again by now.
    assert facts["fds"][:3] == [0, 1, 2]
    assert len(facts["fds"]) <= 4
    assert facts["fds_still_open"] == []
    targets = facts["fd_targets"]
    assert targets["0"] == "/dev/null" or targets["0"].startswith("/memfd:")
    assert targets["1"].startswith("pipe:") and targets["2"].startswith("pipe:")
    assert targets["1"] != targets["2"]

