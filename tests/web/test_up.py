"""``judge up`` as a newcomer runs it: a bare directory, no settings, then Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

# Loaded by this directory's conftest (by file path: test directories are not packages).
stack_module = sys.modules["web_test_stack"]

servers = stack_module.servers
AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (through /proc/*/task/*/children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids = [int(k) for k in (task / "children").read_text().split()]
                todo += [k for k in kids if k not in found]
                found.update(kids)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


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


def start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
    env["PYTHONPATH"] = str(stack_module.REPO)
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


def stop_and_check_nothing_left(proc: subprocess.Popen[str], port: int) -> None:
    family = descendants(proc.pid)
    assert len(family) >= 4, family  # redis, web, two workers (and their pool processes)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
    assert proc.wait(60) == 0
    time.sleep(0.2)
    assert [p for p in family if alive(p)] == []
    assert not servers.port_open(port)


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
        assert (tmp_path / "var" / "judge.db").exists()
        stop_and_check_nothing_left(proc, port)

        # A second start keeps the data and prints no new admin secret.
        proc = start(tmp_path, port)
        out = Output(proc)
        out.wait_for("Judge is running", 90)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as c:  # fmt: skip
            servers.wait_until(lambda: servers.port_open(port), 10, "web")
            assert len(c.get("/api/submissions").json()) == 1
        stop_and_check_nothing_left(proc, port)
        out.thread.join(10)
        assert not any("admin API token" in line for line in out.lines), out.lines
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
