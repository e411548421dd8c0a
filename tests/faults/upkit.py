"""A real ``judge up`` for fault tests: start it, find its children, stop it, leave nothing.

Every process a test kills is found below the ``judge up`` that test started (its direct
children, by their command line), and cleanup signals only that process and its session.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

import store
from tests.proctree import alive, descendants

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "web" / "samples"
AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


def _load_servers() -> Any:
    name = "judge_test_servers"  # the name tests/web/stack.py uses: one copy per session
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "store" / "servers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


servers = _load_servers()






def argv_of(pid: int) -> list[bytes]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return []


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

    def wait_for(self, marker: str, timeout: float, start: int = 0) -> int:
        """Index of the first line from ``start`` on containing ``marker``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines[start:], start):
                if marker in line:
                    return i
            time.sleep(0.05)
        raise AssertionError(f"no {marker!r} from judge up; output so far: {self.lines}")


class JudgeUp:
    """``judge up`` in ``workdir`` on a free port, run as ``python -m web.cli`` so PYTHONPATH
    (this checkout) applies to it and to every child it starts."""

    def __init__(self, workdir: Path, workers: int = 1, **env: str) -> None:
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = workdir / "var"
        base = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
        base["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "up", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=workdir, env={**base, **env}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # a failing test can still clean up by this PID's group
        )  # fmt: skip
        self.out = Output(self.proc)
        self.token = ""

    def wait_ready(self, timeout: float = 120) -> None:
        i = self.out.wait_for("admin API token", timeout)
        servers.wait_until(lambda: len(self.out.lines) > i + 1, 10, "the token line")
        self.token = self.out.lines[i + 1].strip()

    def client(self, timeout: float = 60) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout,
                            headers={"Authorization": f"Bearer {self.token}"})  # fmt: skip

    def children(self, word: bytes) -> list[int]:
        """Direct children of this ``judge up`` whose command line has ``word`` near its start."""
        found = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                for kid in (task / "children").read_text().split():
                    if any(word in a for a in argv_of(int(kid))[:4]) and alive(int(kid)):
                        found.append(int(kid))
        return sorted(found)

    def one(self, word: bytes) -> int:
        pids = self.children(word)
        assert len(pids) == 1, (word, pids)
        return pids[0]

    def stop(self) -> None:
        """SIGTERM (as an init system would), and check nothing it started is left."""
        family = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) == 0, self.out.lines[-20:]
        time.sleep(0.2)
        assert [p for p in family if alive(p)] == []
        assert not servers.port_open(self.port)

    def kill_all(self) -> None:
        """Last resort in a finally: the process this test started and everything below it."""
        family = descendants(self.proc.pid)  # children run in sessions of their own
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def submit(c: httpx.Client, wait: bool = False) -> httpx.Response:
    return c.post(f"/api/submissions{'?wait=true' if wait else ''}",
                  json={"problem": "aplusb", "language": "python3", "source": AB_PY})  # fmt: skip


class Web:
    """``judge web`` (this checkout) as a process of its own, stopped by its PID."""

    def __init__(self, workdir: Path, db_url: str, redis_url: str, **extra: str) -> None:
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"web-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
        env.update(PYTHONPATH=str(REPO), JUDGE_DATA_DIR=str(workdir), JUDGE_DATABASE_URL=db_url,
                   JUDGE_REDIS_URL=redis_url, JUDGE_SECRET_KEY="test-secret", **extra)  # fmt: skip
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "web.cli", "web", "--port", str(self.port)],
                env=env, cwd=REPO, stdout=fd, stderr=fd, start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(fd)
        try:
            servers.wait_until(self._up, 30, f"judge web ({self.log})")
        except BaseException:
            self.stop()
            raise

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"judge web exited:\n{self.log.read_text(errors='replace')}")
        return bool(servers.port_open(self.port))

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip

    def stop(self) -> None:
        servers.stop_process(self.proc, timeout=20)


def seed(db_url: str, *names: str) -> list[str]:
    """Migrate, import A+B, and make one token per name (the first an admin)."""
    engine = store.init_db(db_url)
    try:
        with store.session_factory(engine)() as s:
            store.import_problem(s, store.load_directory(SAMPLES / "aplusb"))
            tokens = [store.create_token(s, n, admin=i == 0) for i, n in enumerate(names)]
            s.commit()
        return tokens
    finally:
        engine.dispose()
