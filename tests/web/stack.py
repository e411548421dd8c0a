"""A whole judge for web tests: redis-server, a Celery worker and ``judge web`` as processes.

The web server runs as its own process (not in the test process) on purpose: the worker
package binds its broker URL at import, and other test packages import it first with theirs.
Every process is started in its own session and stopped by its PID, so cleanup never touches
anything these helpers did not start. Loaded by file path (test dirs are not packages).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import store
from web import accounts

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "web" / "samples"
PASSWORD = "correct horse battery"


def _load_servers() -> Any:
    path = REPO / "tests" / "store" / "servers.py"
    spec = importlib.util.spec_from_file_location("judge_test_servers", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


servers = _load_servers()


class Process:
    """A subprocess in its own session with its output in a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> None:
        self.log = log
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.proc = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=fd, stderr=fd, start_new_session=True
            )
        finally:
            os.close(fd)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.proc.args} exited:\n{self.tail()}")
        return True

    def stop(self) -> None:
        servers.stop_process(self.proc, timeout=20)


@dataclass
class Stack:
    workdir: Path
    db_url: str
    redis: Any
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    url: str = ""

    def start_worker(self, concurrency: int = 2) -> Process:
        log = self.workdir / f"worker-{len(self.processes)}.log"
        p = Process([sys.executable, "-m", "worker", "--concurrency", str(concurrency),
                     "--loglevel=INFO", "--hostname", f"web-test-{os.getpid()}-{len(self.processes)}@x"],
                    self.env, log, REPO)  # fmt: skip
        self.processes.append(p)
        servers.wait_until(lambda: p.alive() and " ready." in p.tail(), 60, f"worker ({log})")
        return p

    def start_web(self, **overrides: str) -> str:
        port = servers.free_port()
        log = self.workdir / f"web-{port}.log"
        env = {**self.env, **overrides}
        argv = [
            sys.executable,
            "-m",
            "web.cli",
            "web",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        p = Process(argv, env, log, REPO)
        self.processes.append(p)
        servers.wait_until(lambda: p.alive() and servers.port_open(port), 30, f"web ({log})")
        return f"http://127.0.0.1:{port}"

    def client(self, who: str | None = None, url: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=url or self.url, headers=headers, timeout=60)

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop()
        self.redis.stop()


def make_stack(workdir: Path, **web_env: str) -> Stack:
    redis = servers.RedisServer(workdir)
    db_url = f"sqlite:///{workdir / 'judge.db'}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "JUDGE_DATA_DIR": str(workdir),
        "JUDGE_DATABASE_URL": db_url,
        "JUDGE_REDIS_URL": redis.url,
        "JUDGE_SECRET_KEY": "test-secret",
        "JUDGE_RATE_LIMIT": "10000",
        # Tests submit in bursts as one user; tests/web/hostile/test_fairness.py sets its own.
        "JUDGE_MAX_UNFINISHED": "10000",
        "JUDGE_MAX_RUNS_IN_PROGRESS": "100",
        "JUDGE_RUN_CPU_PER_WINDOW": "100000",
        "JUDGE_LOGIN_FAILURES_PER_ADDRESS": "10000",
        "JUDGE_LOGIN_FAILURES_PER_NAME": "10000",
        "JUDGE_SIGNUPS_PER_ADDRESS": "10000",
        # The stack's one worker grades two at a time; so many of a user's submissions at
        # once, whatever this machine's CPU count (the default share).
        "JUDGE_USER_SHARE": "2",
        **web_env,
    }
    stack = Stack(workdir=workdir, db_url=db_url, redis=redis, env=env)
    try:
        engine = store.init_db(db_url)
        with store.session_factory(engine)() as s:
            for d in sorted(SAMPLES.iterdir()):
                store.import_problem(s, store.load_directory(d))
            stack.tokens["admin"] = store.create_token(s, "root", admin=True)
            for name in ("alice", "bob"):
                stack.tokens[name] = store.create_token(s, name)
            accounts.create_user(s, "carol", PASSWORD)
            s.commit()
        engine.dispose()
        stack.start_worker()
        stack.url = stack.start_web()
    except BaseException:
        stack.stop()
        raise
    return stack


def ensure_admin(stack: Stack, name: str) -> None:
    """An admin account `name` (password PASSWORD) in the stack's database, made once."""
    engine = create_engine(stack.db_url)  # the stack's database is migrated already
    try:
        with Session(engine) as s:
            if s.scalars(select(store.User).where(store.User.name == name)).first() is None:
                accounts.create_user(s, name, PASSWORD, admin=True)
                s.commit()
    finally:
        engine.dispose()


def wait_done(client: httpx.Client, sid: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/submissions/{sid}").json()
        if body["status"] in ("done", "error") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)
