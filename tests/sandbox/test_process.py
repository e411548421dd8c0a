"""sandbox.spawn: a long-lived program in its own box, talking through pipes (issue 19's
parser). The session's leak guard checks after each test that no process, cgroup or mount is
left behind."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import sandbox
from sandbox import cgroups


def _read(fd: int, n: int, timeout: float = 10.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n:
        left = deadline - time.monotonic()
        assert left > 0, f"only {got!r} within {timeout} s"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, n - len(got))
            if not chunk:
                break
            got += chunk
    return got


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                    out.append(pid)
        except OSError:
            pass
    return out


def _program_pid(proc: sandbox.Process, name: bytes) -> int:
    for pid in proc.pids():
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            if handle.read().startswith(name):
                return pid
    raise AssertionError(f"no {name!r} among {proc.pids()}")


def test_many_exchanges_with_one_box_then_nothing_left() -> None:
    proc = sandbox.spawn(["/bin/cat"], {"memory": "32M", "pids": 2})
    try:
        for i in range(50):
            os.write(proc.stdin, b"line %d\n" % i)
            assert _read(proc.stdout, len(b"line %d\n" % i)) == b"line %d\n" % i
        assert proc.cpu_time() > 0
        assert proc.memory_peak() > 0
        pids = proc.pids()
        assert pids
    finally:
        proc.close()
    assert _alive(pids) == []
    proc.close()  # twice is harmless


def test_a_stopped_program_still_ends_with_its_box() -> None:
    proc = sandbox.spawn(["/bin/cat"], {"memory": "32M", "pids": 2})
    os.write(proc.stdin, b"up\n")
    assert _read(proc.stdout, 3) == b"up\n"  # (cat runs: init has exec'd it)
    pids = proc.pids()
    os.kill(_program_pid(proc, b"/bin/cat"), signal.SIGSTOP)
    started = time.monotonic()
    proc.close()
    assert time.monotonic() - started < 5
    assert _alive(pids) == []


def test_the_box_has_no_network_and_a_private_filesystem() -> None:
    marker = f"spawn-probe-{os.getpid()}-{time.monotonic_ns()}"
    probe = (
        "import os, socket\n"
        "out = []\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=2); out.append('net')\n"
        "except OSError: out.append('no-net')\n"
        "for path in ('/usr/x', '/etc/x', '/x'):\n"
        "    try:\n"
        "        open(path, 'w').write('x'); out.append('wrote ' + path)\n"
        "    except OSError: pass\n"
        "open('/box/mine', 'w').write('ok')\n"
        f"open('/tmp/{marker}', 'w').write('in the box only')\n"
        "print(' '.join(out), os.listdir('/box'), flush=True)\n"
        "os.read(0, 1)\n"
    )
    proc = sandbox.spawn(["/usr/bin/python3", "-S", "-I", "-c", probe],
                         {"memory": "64M", "pids": 4})
    try:
        line = b""
        while not line.endswith(b"\n"):
            chunk = _read(proc.stdout, 1)
            assert chunk, "the probe died"
            line += chunk
    finally:
        proc.close()
    assert line == b"no-net ['mine']\n"
    assert not os.path.exists(f"/tmp/{marker}")  # its /tmp was its own


def test_a_forked_child_forgets_the_box_and_the_parent_keeps_it() -> None:
    proc = sandbox.spawn(["/bin/cat"], {"memory": "32M", "pids": 2})
    try:
        child = os.fork()
        if child == 0:
            proc.forget()
            proc.close()  # in a child: only its copies go
            os._exit(0)
        assert os.waitpid(child, 0)[1] == 0
        os.write(proc.stdin, b"still here\n")
        assert _read(proc.stdout, 11) == b"still here\n"
    finally:
        proc.close()


def test_the_box_dies_with_its_owner_even_by_sigkill() -> None:
    code = (
        "import os, signal, sandbox\n"
        "p = sandbox.spawn(['/bin/cat'], {'memory': '32M', 'pids': 2})\n"
        "os.write(p.stdin, b'up')\n"
        "assert os.read(p.stdout, 2) == b'up'\n"  # (its processes have joined the cgroup)
        "print(' '.join(map(str, p.pids())), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    out, err = owner.communicate(timeout=60)
    try:
        assert owner.returncode == -signal.SIGKILL, err
        pids = [int(p) for p in out.split()]
        assert pids
        deadline = time.monotonic() + 5
        while _alive(pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _alive(pids) == []
    finally:
        # Its cgroups stay until a later process cleans stale ones (its owner could not):
        # remove them now, only those of the owner we killed.
        backend = cgroups.backend()
        for directory in backend.box_dirs():
            if os.path.basename(directory).startswith(f"box-{owner.pid}-"):
                backend.destroy(directory)
