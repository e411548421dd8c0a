"""README's first command on a fresh machine, for real: ``bash .ci/setup && judge up``.

A throw-away Debian 12 root (``debootstrap --variant=minbase`` from the machine's own mirror:
no pyenv, no Python packages, none of this machine's extras) gets the project's tracked files
in /opt/judge. It is entered in a private mount namespace (``unshare --mount --propagation
private``) where /proc, /sys (with the cgroup hierarchies) and /dev are mounted and the root is
switched with pivot_root: every mount lives in that namespace only and is gone with its last
process, whatever happens to the test; no host mount is ever changed. (pivot_root, not chroot:
the kernel refuses a new user namespace to a chrooted process, and every box needs one.)

Inside, the README's command runs (``exec``, so the process this test started *is* judge up);
from the host the test waits for the URL and the admin token judge up prints, submits A+B in
python3 for AC, sends SIGTERM, and checks that judge up exits 0 and that no process, cgroup or
mount of that machine is left. It prints how long each step took.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.proctree import alive, descendants

servers: Any = sys.modules["judge_test_servers"]
REPO = Path(__file__).resolve().parents[2]
AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
#: Where the project lands in the fresh root (any directory works; this is where a person would).
PROJECT = "/opt/judge"
#: The box cgroups' parent for this judge alone: the machine's cgroup hierarchies are shared
#: with every other sandbox on it, so a private parent makes "nothing left" exact.
CGROUP_PARENT = f"pysandbox-fresh-{os.getpid()}"
SETUP_DONE = "fresh-machine: setup done"

#: Run by the host's bash inside the new mount namespace ($1 the root, then the command). The
#: first bind makes the root a mount point, which pivot_root needs; ``umount -l .`` then drops
#: the host's tree from this namespace, so only the fresh root is visible.
ENTER = r"""
set -e
root=$1; shift
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
cd "$root"
pivot_root . .
umount -l .
cd /
exec "$@"
"""


def machine_mirror() -> str:
    """The Debian mirror this machine's apt uses for the release itself (not -security)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    with contextlib.suppress(OSError):
        for stanza in re.split(r"\n\s*\n", sources.read_text()):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines()
                if ":" in line and not line.startswith(("#", " "))
            )  # fmt: skip
            if (
                "deb" in fields.get("Types", "").split()
                and SUITE in fields.get("Suites", "").split()
            ):
                return fields["URIs"].split()[0].rstrip("/")
    with contextlib.suppress(OSError):
        for line in Path("/etc/apt/sources.list").read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", " ", line).split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                return words[1].rstrip("/")
    return DEFAULT_MIRROR


def project_files() -> list[str]:
    """What a clean clone has: the tracked files, or failing git, the tree less local state."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], check=True,
                             capture_output=True, timeout=60).stdout  # fmt: skip
        return [f for f in out.decode().split("\0") if f and os.path.lexists(REPO / f)]
    skip = {".git", ".venv", "var", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}
    found = []
    for top, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in skip]
        found += [os.path.relpath(os.path.join(top, f), REPO) for f in files]
    return found


def copy_project(dest: Path) -> None:
    for rel in project_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target, follow_symlinks=False)  # keeps executable bits


def same_root(pid: int, root: os.stat_result) -> bool:
    try:
        st = os.stat(f"/proc/{pid}/root")  # the process's root directory, wherever it is
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (root.st_dev, root.st_ino)


def mount_ns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]






def machine_processes(root: os.stat_result) -> list[int]:
    """Every live process rooted in the fresh machine. (Not "in its mount namespace": a dead
    namespace's inode number is soon another's, often a box's of some other sandbox here. A box
    has a root of its own; that none is left shows in its cgroup, which must be gone.)"""
    me = os.getpid()
    return [p for p in pids() if p != me and alive(p) and same_root(p, root)]


def our_cgroup_parents() -> list[Path]:
    """CGROUP_PARENT wherever the sandbox may have made it: at the top of each cgroup
    hierarchy, or (v2) beside the cgroup it ran in, a level or two down."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[:1] in (["cgroup"], ["cgroup2"]):
            mount = Path(left.split()[4])
            found += [p for pattern in (CGROUP_PARENT, f"*/{CGROUP_PARENT}", f"*/*/{CGROUP_PARENT}")
                      for p in mount.glob(pattern) if p.is_dir()]  # fmt: skip
    return found


def remove_cgroups() -> None:
    """Our parents and every box cgroup below them, SIGKILLing what a failed run left in them
    (only this test's judge uses these names)."""
    for parent in our_cgroup_parents():
        dirs = sorted((d for d in parent.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts))
        for _ in range(50):
            procs = set()
            for d in [*dirs, parent]:
                with contextlib.suppress(OSError):
                    procs |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            if not procs:
                break
            for p in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGKILL)
            time.sleep(0.2)
        for d in [*dirs, parent]:
            with contextlib.suppress(OSError):
                d.rmdir()


def mounts_under(path: Path) -> list[str]:
    text = Path("/proc/self/mountinfo").read_text()
    return [line for line in text.splitlines() if str(path) in line]


class Output:
    """The process's output lines with the time each arrived, read on a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[tuple[float, str]] = []
        self.proc = proc
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines[-60:])

    def wait_for(self, marker: str, timeout: float) -> tuple[int, float]:
        """Index and arrival time of the first line containing ``marker``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, (at, line) in enumerate(self.lines):
                if marker in line:
                    return i, at
            if self.proc.poll() is not None:
                time.sleep(0.5)  # the last lines
                raise AssertionError(f"exited {self.proc.returncode} before {marker!r}:\n"
                                     f"{self.text()}")  # fmt: skip
            time.sleep(0.1)
        raise AssertionError(f"no {marker!r} within {timeout:.0f} s:\n{self.text()}")


def kill_machine(root: os.stat_result) -> None:
    """After a failure: SIGKILL whatever of the fresh machine still runs, until nothing does."""
    for _ in range(50):
        left = machine_processes(root)
        if not left:
            return
        for p in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.2)


@pytest.mark.timeout(2400)
def test_readme_first_command_on_a_fresh_debian(capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("debootstrap, mount namespaces and the judge itself need root")
    debootstrap = shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if os.path.exists(p)), None
    )
    if debootstrap is None:
        pytest.skip("debootstrap is missing (`apt-get install debootstrap`; .ci/run installs it)")
    unshare = shutil.which("unshare") or "/usr/bin/unshare"

    timings: dict[str, float] = {}
    tmp = Path(tempfile.mkdtemp(prefix="judge-fresh-", dir="/var/tmp"))
    root = tmp / "root"
    proc: subprocess.Popen[str] | None = None
    root_stat: os.stat_result | None = None
    try:
        mirror = machine_mirror()
        t0 = time.monotonic()
        r = subprocess.run([debootstrap, "--variant=minbase", SUITE, str(root), mirror],
                           capture_output=True, text=True, timeout=1200)  # fmt: skip
        timings["debootstrap"] = time.monotonic() - t0
        assert r.returncode == 0, f"debootstrap from {mirror}:\n{(r.stdout + r.stderr)[-3000:]}"
        root_stat = root.stat()
        assert not (root / "usr/bin/python3").exists()  # minbase has no Python: setup brings it
        copy_project(root / PROJECT.lstrip("/"))

        # The machine's network plumbing, not the project's requirements: a real machine has
        # these from its installer. Names resolve as on this machine.
        shutil.copy2("/etc/resolv.conf", root / "etc/resolv.conf")
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "SANDBOX_CGROUP_PARENT": CGROUP_PARENT,
        }
        # HTTPS from this machine may pass a proxy that signs with its own CA, which only this
        # machine's bundle holds (pip here is pointed at it too): pip in the fresh root gets
        # that bundle. apt needs nothing: the mirror is plain HTTP, signed by Debian's keys.
        bundle = next((b for b in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"),
                                   "/etc/ssl/certs/ca-certificates.crt")
                       if b and os.path.isfile(b)), None)  # fmt: skip
        if bundle:
            shutil.copy2(bundle, root / "etc/host-ca-bundle.crt")
            env["PIP_CERT"] = "/etc/host-ca-bundle.crt"

        port = servers.free_port()
        inside = (f"cd {PROJECT} && bash .ci/setup && echo '{SETUP_DONE}' && "
                  f"exec judge up --port {port}")  # fmt: skip
        t_start = time.monotonic()
        proc = subprocess.Popen(
            [unshare, "--mount", "--propagation", "private", "--",
             "/bin/bash", "-c", ENTER, "enter", str(root), "/bin/bash", "-c", inside],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        out = Output(proc)
        _, t_setup = out.wait_for(SETUP_DONE, 1500)
        timings["setup"] = t_setup - t_start
        i, t_ready = out.wait_for("admin API token", 300)
        timings["judge up to ready"] = t_ready - t_setup
        assert mount_ns(proc.pid) not in (None, mount_ns(os.getpid()))  # a namespace of its own
        # The process this test started is judge up, running in the fresh root.
        assert same_root(proc.pid, root_stat)
        argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert any(a.endswith(b"/judge") for a in argv) and b"up" in argv, argv
        assert any(f"http://127.0.0.1:{port}" in line for _, line in out.lines), out.text()
        servers.wait_until(lambda: len(out.lines) > i + 1, 10, "the token line")
        token = out.lines[i + 1][1].strip()

        t0 = time.monotonic()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as c:  # fmt: skip
            r2 = c.post(
                "/api/submissions?wait=true",
                json={"problem": "aplusb", "language": "python3", "source": AB_PY},
            )
        timings["A+B"] = time.monotonic() - t0
        assert r2.status_code == 200 and r2.json()["verdict"] == "AC", r2.text

        family = descendants(proc.pid)
        assert len(family) >= 4, family  # redis, web, workers at least
        assert our_cgroup_parents(), "the boxes' cgroups were not under SANDBOX_CGROUP_PARENT"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 0, out.text()
        timings["stop"] = time.monotonic() - t0
        time.sleep(0.2)
        assert [p for p in family if alive(p)] == []
        assert machine_processes(root_stat) == []
        assert not servers.port_open(port)
        for parent in our_cgroup_parents():
            left = [d.name for d in parent.iterdir() if d.is_dir()]
            assert left == [], f"cgroups left in {parent}: {left}"
        assert mounts_under(tmp) == []
        with capsys.disabled():
            print(
                "\nfresh Debian 12 machine, "
                + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()),
                flush=True,
            )
    finally:
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        if root_stat is not None:
            kill_machine(root_stat)
        remove_cgroups()
        # The mounts were the namespace's own; with its processes gone they are gone too. A
        # mount still showing here would make removing the tree dangerous: leave it then.
        if not mounts_under(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
