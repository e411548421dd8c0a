"""Fixtures of the hostile suite: the program builder, a host secret, a host snapshot taken
before the first attack (checked by test_zz_host_intact.py), and loopback listeners."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_support import Hostile, HostSecret, host_secret, mount_count

# Host files a box must never change; the planted names must never appear.
CANARY_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hostname", "/etc/hosts",
                "/usr/bin/python3", "/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern",
                "/proc/sys/vm/drop_caches")
PLANTED = ("/usr/bin/hostile-planted", "/lib/hostile-planted", "/etc/hostile-planted",
           "/hostile-planted")


@dataclasses.dataclass(frozen=True)
class HostSnapshot:
    mounts: int
    digests: dict[str, str]
    planted: tuple[str, ...]
    hostname: str
    dev_shm: frozenset[str]
    sysv_keys: frozenset[int]


def _digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def snapshot(extra: tuple[str, ...] = ()) -> HostSnapshot:
    keys: set[int] = set()
    for name in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{name}") as handle:
            keys |= {int(line.split()[0]) for line in handle.readlines()[1:]}
    return HostSnapshot(
        mounts=mount_count(),
        digests={path: _digest(path) for path in (*CANARY_FILES, *extra)},
        planted=tuple(p for p in PLANTED if os.path.lexists(p)),
        hostname=socket.gethostname(),
        dev_shm=frozenset(os.listdir("/dev/shm")),
        sysv_keys=frozenset(keys),
    )


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    return Hostile(tmp_path_factory.mktemp("hostile-build"))


@pytest.fixture(scope="session")
def secret() -> Iterator[HostSecret]:
    with host_secret() as value:
        yield value


@pytest.fixture(scope="session", autouse=True)
def host_before(secret: HostSecret) -> HostSnapshot:
    """The host as it was before the first hostile program ran."""
    return snapshot((str(secret.path),))


@dataclasses.dataclass
class Listener:
    """TCP on 127.0.0.1 and ::1 (same port) and an abstract unix socket, on the host."""

    port: int
    abstract: str
    accepted: list[str]


@pytest.fixture
def listener() -> Iterator[Listener]:
    v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    v4.bind(("127.0.0.1", 0))
    port = v4.getsockname()[1]
    socks = [v4]
    try:
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        v6.bind(("::1", port))
        socks.append(v6)
    except OSError:
        v6.close()
    abstract = f"hostile-listener-{os.getpid()}-{port}"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind("\0" + abstract)
    socks.append(unix)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    for sock in socks:
        sock.listen(8)
    socks.append(udp)
    state = Listener(port, abstract, [])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            ready, _, _ = select.select(socks, [], [], 0.05)
            for sock in ready:
                if sock is udp:
                    data, peer = udp.recvfrom(4096)
                    state.accepted.append(f"udp {peer} {data!r}")
                else:
                    conn, peer = sock.accept()
                    state.accepted.append(f"tcp/unix {peer!r}")
                    conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join()
        for sock in socks:
            sock.close()
