"""One ``judge up`` per data directory, and nothing of the sandbox kept in it (issue 16, 3-4).

Real processes: a ``judge up`` (its own redis-server, web server and worker) from
tests/faults/upkit.py, then a second ``judge up``, a standalone ``judge web`` and ``judge worker``
on its data directory, which must refuse in one line naming its PID; after a ``kill -9`` the
kernel's lock is gone and a new ``judge up`` starts on the same data.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from store import datalock
from tests.faults.upkit import REPO, JudgeUp, Web, alive, argv_of, descendants, servers, submit


def judge(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A ``judge`` command of this checkout that is expected to end by itself."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
    base["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def refused(r: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, (r.returncode, r.stdout, r.stderr)
    assert all(w in lines[0] for w in words), lines


def direct_children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(k) for k in (task / "children").read_text().split() if alive(int(k))]
    return sorted(found)


def test_one_judge_up_per_data_directory_and_none_of_the_sandbox_in_it(tmp_path: Path) -> None:
    first = JudgeUp(tmp_path, workers=1)
    second: JudgeUp | None = None
    try:
        first.wait_ready()
        pid = first.proc.pid
        data = first.data

        # Issue 16.4: its preflight ran `sandbox doctor` (a real run) in this process, which
        # kept a zygote, two warm boxes and their cgroups. Now: only what it started on
        # purpose, one thread, no box cgroup named after it.
        kids = {k: argv_of(k)[:4] for k in direct_children(pid)}
        started = [k for k, argv in kids.items()
                   if b"redis-server" in argv[0] or argv[2:3] in ([b"web.cli"], [b"worker"])]  # fmt: skip
        assert sorted(started) == sorted(kids) and len(kids) == 3, kids
        assert len(list(Path(f"/proc/{pid}/task").iterdir())) == 1
        assert glob.glob(f"/sys/fs/cgroup/**/box-{pid}-*", recursive=True) == []

        # Issue 16.3: a second judge up on the same data (another port) refuses at once.
        t0 = time.monotonic()
        other_port = str(servers.free_port())
        refused(judge(tmp_path, "up", "--port", other_port, "--workers", "1"),
                "judge up:", f"another judge up (PID {pid})", str(data))  # fmt: skip
        print(f"second judge up refused in {time.monotonic() - t0:.2f} s")
        # So do a standalone web server and worker on its SQLite file...
        on_its_data = {"JUDGE_DATA_DIR": str(data)}
        refused(judge(tmp_path, "web", "--port", other_port, **on_its_data),
                "judge web:", f"judge up (PID {pid})")  # fmt: skip
        refused(judge(tmp_path, "worker", "--concurrency", "1", **on_its_data),
                "worker:", f"judge up (PID {pid})")  # fmt: skip
        refused(judge(tmp_path, "worker", JUDGE_DATABASE_URL=f"sqlite:///{data / 'judge.db'}"),
                "worker:", f"judge up (PID {pid})")  # fmt: skip
        # ... but not a worker on PostgreSQL (workers on many machines), whatever its data
        # directory: it takes no lock.
        datalock.hold_for_part(data, "postgresql+psycopg://judge@db.invalid/judge")
        assert datalock._held == []
        # ... and not the children of judge up itself: it grades (its worker took its lock).
        with first.client() as c:
            r = submit(c, wait=True)
            assert r.status_code == 200 and r.json()["verdict"] == "AC", r.text
        assert (data / "judge.lock").read_text().strip() == str(pid)

        # kill -9 leaves a stale PID in the file but no lock: once its children are gone
        # (PDEATHSIG), a new judge up starts on the same data.
        family = descendants(pid)
        os.kill(pid, signal.SIGKILL)
        first.proc.wait(10)
        servers.wait_until(lambda: not any(alive(p) for p in family), 60, "its children gone")
        second = JudgeUp(tmp_path, workers=1)
        second.out.wait_for("Judge is running", 120)
        assert (data / "judge.lock").read_text().strip() == str(second.proc.pid)
        with second.client() as c:
            c.headers["Authorization"] = f"Bearer {first.token}"
            assert submit(c, wait=True).json()["verdict"] == "AC"
        second.stop()
    finally:
        first.kill_all()
        if second is not None:
            second.kill_all()


def test_judge_up_refuses_a_data_directory_a_standalone_web_server_uses(tmp_path: Path) -> None:
    data = tmp_path / "var"  # judge up's default, from tmp_path
    data.mkdir()
    web = Web(data, f"sqlite:///{data / 'judge.db'}", "redis://127.0.0.1:9/0")
    try:
        refused(judge(tmp_path, "up", "--port", str(servers.free_port()), "--workers", "1"),
                "judge up:", f"judge web or judge worker (PID {web.proc.pid})")  # fmt: skip
        # Several standalone parts share it (the parts of one judge started by hand).
        again = Web(data, f"sqlite:///{data / 'judge.db'}", "redis://127.0.0.1:9/0")
        again.stop()
    finally:
        web.stop()
