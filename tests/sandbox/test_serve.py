"""`sandbox serve` (sandbox/serve.py): JSON lines over a Unix socket, warm boxes, and one
caller unable to reach another's box, files or results."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sandbox import serve

BOX_PYTHON = "/usr/bin/python3"


class Client:
    """What a judge in any language does: one connection, one JSON line per run."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")

    def call(self, request: dict[str, Any] | bytes) -> dict[str, Any]:
        line = request if isinstance(request, bytes) else json.dumps(request).encode() + b"\n"
        self.sock.sendall(line)
        reply: dict[str, Any] = json.loads(self.reader.readline())
        return reply

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


@pytest.fixture
def server() -> Iterator[tuple[str, Path]]:
    """A server in this process (its boxes count for the leak guard), its socket in a
    directory that is also bound into every box: a box sees the socket file. (Not under
    /tmp, which a box cannot have bound.)"""
    shared = Path(tempfile.mkdtemp(prefix="sandbox-serve-", dir="/var/tmp"))
    shared.chmod(0o755)
    path = str(shared / "sandbox.sock")
    binds = serve.checked_binds([str(shared)])
    listener = serve.listen(path)
    stop = threading.Event()
    thread = threading.Thread(target=serve.serve, args=(listener, binds, stop))
    thread.start()
    try:
        yield path, shared
    finally:
        stop.set()
        thread.join()
        listener.close()
        shutil.rmtree(shared)


@pytest.fixture
def client(server: tuple[str, Path]) -> Iterator[Callable[[], Client]]:
    made: list[Client] = []

    def make() -> Client:
        made.append(Client(server[0]))
        return made[-1]

    yield make
    for c in made:
        c.close()


def test_runs_with_inline_files_stdin_and_copy_out(client: Callable[[], Client]) -> None:
    c = client()
    reply = c.call({"cmd": [BOX_PYTHON, "data.py"], "stdin": "20 22\n",
                    "files": {"data.py": base64.b64encode(
                        b"import sys; a, b = map(int, input().split()); print(a + b)\n"
                        b"open('out.bin', 'wb').write(bytes(range(256)))").decode()},
                    "copy_out": ["out.bin"], "limits": {"cpu_time": 2, "memory": "64M"}})
    assert reply["verdict"] == "OK", reply
    assert reply["stdout"] == "42\n" and reply["exit_code"] == 0
    assert base64.b64decode(reply["files"]["out.bin"]) == bytes(range(256))
    # The same connection goes on: a second run, another verdict.
    again = c.call({"cmd": ["/bin/sh", "-c", "exit 3"]})
    assert again["verdict"] == "RE" and again["exit_code"] == 3


@pytest.mark.parametrize(("request_line", "error"), [
    (b"not json\n", "one JSON object per line"),
    (b"[1]\n", "expected a JSON object"),
    (b'{"cmd": ["/bin/true"], "binds": ["/root"]}\n', "unknown key 'binds'"),
    (b'{"cmd": ["/bin/cat", "x"], "files": {"x": "/etc/shadow"}}\n', "not base64"),
    (b'{"cmd": "/bin/true"}\n', "cmd: expected a list"),
    (b'{"cmd": ["/bin/true"], "limits": {"memory": "lots"}}\n', "memory"),
    (b'{"cmd": ["/bin/true"], "copy_out": ["../../etc/passwd"]}\n', "copy_out"),
])
def test_bad_requests_get_one_error_line_and_the_connection_goes_on(
        client: Callable[[], Client], request_line: bytes, error: str) -> None:
    c = client()
    reply = c.call(request_line)
    assert set(reply) == {"error"} and error in reply["error"], reply
    assert c.call({"cmd": ["/bin/true"]})["verdict"] == "OK"


def test_the_socket_is_its_owners_only(server: tuple[str, Path]) -> None:
    mode = os.lstat(server[0]).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


# Each box: proves it sees only its own files and processes, tries to reach the server's
# socket (bound into the box) and the other box's files, and stays alive to overlap.
PROBE = r"""
import json, os, socket, sys, time
me = sys.argv[1]
found = {"box": sorted(os.listdir("/box")), "tmp": sorted(os.listdir("/tmp")),
         "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
         "secret": open("/box/secret.txt").read()}
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[2])
    s.sendall(b'{"cmd": ["/bin/true"]}\n')
    found["socket"] = "connected: " + s.recv(100).decode()
except OSError as exc:
    found["socket"] = exc.errno
seen = []
for root in ("/proc", "/tmp", "/box", "/dev/shm"):
    for dirpath, dirs, files in os.walk(root):
        if dirpath.startswith("/proc/") and not dirpath[6:].split("/")[0].isdigit():
            dirs[:] = []
        for name in files:
            if name == "secret.txt" and dirpath != "/box":
                seen.append(os.path.join(dirpath, name))
found["other_secrets"] = seen
open("/tmp/scratch-" + me, "w").write(me)
time.sleep(0.6)
print(json.dumps(found))
"""


def test_one_caller_cannot_reach_another_callers_box_files_or_results(
        server: tuple[str, Path], client: Callable[[], Client]) -> None:
    path, shared = server
    names = ["alice", "bob", "carol"]
    clients = {name: client() for name in names}

    def probe(name: str) -> dict[str, Any]:
        secret = f"{name}-secret-{os.urandom(8).hex()}"
        reply = clients[name].call({
            "cmd": [BOX_PYTHON, "-c", PROBE, name, path],
            "files": {"secret.txt": base64.b64encode(secret.encode()).decode()},
            "limits": {"cpu_time": 5, "wall_time": 20}})
        assert reply.get("verdict") == "OK", reply
        return {"sent": secret, **json.loads(reply["stdout"])}

    started = time.monotonic()
    with ThreadPoolExecutor(len(names)) as pool:
        seen = dict(zip(names, pool.map(probe, names), strict=True))
    assert time.monotonic() - started < 20
    for name, found in seen.items():
        # Each answer went to its own caller: its own secret, nobody else's.
        assert found["secret"] == found["sent"]
        assert found["sent"].startswith(f"{name}-secret-")
        assert found["box"] == ["secret.txt"]
        assert found["tmp"] == [], found["tmp"]  # no other box's scratch file
        assert found["other_secrets"] == []
        assert all(pid < 10 for pid in found["pids"]), found["pids"]
        # The socket file is there (bound in) but only its owner, root on the host, may
        # connect: the box's root is an unprivileged uid outside.
        assert found["socket"] in (13, 1), found["socket"]  # EACCES or EPERM
    assert os.listdir(shared) == ["sandbox.sock"]


def test_serve_command_answers_on_its_socket(tmp_path: Path,
                                            host_env: dict[str, str]) -> None:
    path = str(tmp_path / "s.sock")
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--socket", path],
                            env=host_env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        c = Client(path)
        try:
            for _ in range(3):
                assert c.call({"cmd": ["/bin/echo", "hi"]})["stdout"] == "hi\n"
        finally:
            c.close()
    finally:
        proc.terminate()
        proc.wait(30)
    assert not os.path.exists(path)  # removed on the way out
