"""``judge up`` as a newcomer runs it: a bare directory, no settings, then Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.proctree import alive, descendants

# Loaded by this directory's conftest (by file path: test directories are not packages).
stack_module = sys.modules["web_test_stack"]

servers = stack_module.servers
AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"






class Output:
    """Collects a process's output lines on a thread, so waiting never blocks on a read."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, marker: str, timeout: float) -> int:
        """Index of the first line containing ``marker``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines):
                if marker in line:
                    return i
            time.sleep(0.1)
        raise AssertionError(f"no {marker!r} from judge up; output so far: {self.lines}")


def start(tmp_path: Path, port: int, **extra_env: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
    env["PYTHONPATH"] = str(stack_module.REPO)
    env.update(extra_env)
    judge = shutil.which("judge")
    argv = [judge] if judge else [sys.executable, "-m", "web.cli"]
    return subprocess.Popen(
        [*argv, "up", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so a failing test can still clean up by this PID's group
    )


def stop_and_check_nothing_left(
    proc: subprocess.Popen[str], port: int, seen: frozenset[int] = frozenset()
) -> None:
    family = descendants(proc.pid)
    assert len(family) >= 4, family  # redis, web, two workers (and their pool processes)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
    assert proc.wait(60) == 0
    time.sleep(0.2)
    assert [p for p in family | seen if alive(p)] == []
    assert not servers.port_open(port)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def worker_pids(pid: int) -> list[int]:
    """The worker processes ``judge up`` started (its direct children running ``-m worker``)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for kid in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    argv = Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")
                    if b"worker" in argv[:4]:
                        found.append(int(kid))
    return sorted(found)


def run_judge_up(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``judge up`` that is expected to refuse to start: its output and exit status."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
    base["PYTHONPATH"] = str(stack_module.REPO)
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "up", *args],
        cwd=tmp_path, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_judge_up_says_in_one_line_what_is_missing(tmp_path: Path) -> None:
    def refused(r: subprocess.CompletedProcess[str], *words: str) -> None:
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1, (r.returncode, r.stderr)
        assert all(w in lines[0] for w in words), lines
        assert not (tmp_path / "var").exists()  # refused before touching anything

    refused(run_judge_up(tmp_path, JUDGE_LEASE_SECONDS="soon"),
            "JUDGE_LEASE_SECONDS='soon'", "number")  # fmt: skip
    refused(run_judge_up(tmp_path, JUDGE_DATABASE_URL="mysql://db/judge"),
            "JUDGE_DATABASE_URL", "postgresql")  # fmt: skip
    refused(run_judge_up(tmp_path, JUDGE_LOG_FORMAT="xml"), "JUDGE_LOG_FORMAT", "json")
    refused(run_judge_up(tmp_path, PATH="/nonexistent"), "redis-server", "apt-get install")
    refused(run_judge_up(tmp_path, "--workers", "-1"), "--workers")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused(run_judge_up(tmp_path, "--port", str(port)), f"127.0.0.1:{port}", "--port")


def test_judge_up_refuses_to_start_without_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from web import up

    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setattr(up.os, "geteuid", lambda: 1000)
    assert up.Supervisor("127.0.0.1", servers.free_port(), 1).run() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs root" in err[0] and "sudo judge up" in err[0], err
    assert not (tmp_path / "var").exists()


def test_judge_up_grades_a_plus_b_and_leaves_nothing_behind(tmp_path: Path) -> None:
    port = servers.free_port()
    proc = start(tmp_path, port)
    try:
        out = Output(proc)
        i = out.wait_for("admin API token", 90)
        assert any(f"http://127.0.0.1:{port}" in line for line in out.lines), out.lines
        servers.wait_until(lambda: len(out.lines) > i + 1, 10, "the token line")
        token = out.lines[i + 1].strip()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90,
                          headers={"Authorization": f"Bearer {token}"}) as c:  # fmt: skip
            assert {p["slug"] for p in c.get("/api/problems").json()} >= {"aplusb", "circle"}
            r = c.post(
                "/api/submissions?wait=true",
                json={"problem": "aplusb", "language": "python3", "source": AB_PY},
            )
            assert r.status_code == 200 and r.json()["verdict"] == "AC", r.text

            # A worker that dies is restarted, and what it left behind is cleaned up.
            seen = descendants(proc.pid)
            victims = worker_pids(proc.pid)
            assert len(victims) == 2, victims
            os.kill(victims[0], signal.SIGKILL)
            out.wait_for("worker-0 exited (killed by SIGKILL); restarting it", 30)
            servers.wait_until(
                lambda: len(worker_pids(proc.pid)) == 2 and victims[0] not in worker_pids(proc.pid),
                30, "the restarted worker",
            )  # fmt: skip
            r = c.post(
                "/api/submissions?wait=true",
                json={"problem": "aplusb", "language": "python3", "source": AB_PY},
            )
            assert r.status_code == 200 and r.json()["verdict"] == "AC", r.text
        assert (tmp_path / "var" / "judge.db").exists()
        stop_and_check_nothing_left(proc, port, frozenset(seen))
        # Private: hidden tests and password hashes in the database, their traces in the logs.
        var = tmp_path / "var"
        assert mode(var) == mode(var / "logs") == 0o700
        assert mode(var / "judge.db") == 0o600
        assert {mode(log) for log in (var / "logs").glob("*.log")} == {0o600}

        # A second start keeps the data and prints no new admin secret; its logs go where
        # JUDGE_LOG_DIR says (another disk than a data disk that may fill up).
        proc = start(tmp_path, port, JUDGE_LOG_DIR=str(tmp_path / "logs-elsewhere"))
        out = Output(proc)
        out.wait_for("Judge is running", 90)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as c:  # fmt: skip
            servers.wait_until(lambda: servers.port_open(port), 10, "web")
            assert len(c.get("/api/submissions").json()) == 2
        stop_and_check_nothing_left(proc, port)
        out.thread.join(10)
        assert not any("admin API token" in line for line in out.lines), out.lines
        assert (tmp_path / "logs-elsewhere" / "web.log").stat().st_size > 0
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
