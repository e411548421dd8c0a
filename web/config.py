"""Web settings from ``JUDGE_*`` environment variables, validated once at start.

A bad value stops the server at start with a message naming the variable, instead of surfacing
as an odd failure on some later request.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from store import env
from store.db import data_dir
from store.env import ConfigError

__all__ = ["ConfigError", "RunMaxima", "Settings", "data_path", "load"]


def _secret_key() -> bytes:
    """``JUDGE_SECRET_KEY``, else a random key kept in the data dir so restarts keep sessions."""
    raw = env.text("JUDGE_SECRET_KEY")
    if raw:
        return raw.encode()
    path = data_dir() / "secret_key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32).encode()
    # O_EXCL: two processes starting at once must agree on one key, so the loser re-reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


@dataclass(frozen=True)
class RunMaxima:
    """The most an ad-hoc run (``POST /api/runs``) may ask for; above it is a 422."""

    cpu_time: float = 10.0
    wall_time: float = 20.0
    memory: int = 1 << 30
    output: int = 16 << 20
    pids: int = 64


@dataclass(frozen=True)
class Settings:
    secret_key: bytes
    #: Bytes of source code accepted in one submission or run; larger is a 413.
    max_source_bytes: int = 256 << 10
    #: Bytes of request body accepted at all (problem archives are the big ones).
    max_body_bytes: int = 64 << 20
    #: Submissions waiting in the interactive queue beyond which new ones get a 503.
    max_queued: int = 1000
    #: Per-user submissions (and runs) per ``rate_window`` seconds; beyond is a 429.
    rate_limit: int = 30
    rate_window: float = 60.0
    #: Failed logins per client address and per account name per ``login_window`` seconds,
    #: and sign-ups per address per hour; beyond is a 429.
    login_failures_per_address: int = 20
    login_failures_per_name: int = 10
    login_window: float = 300.0
    signups_per_address: int = 5
    #: Per user: submissions waiting or grading plus runs in progress; beyond is a 429.
    max_unfinished: int = 10
    #: Per user: runs at once, and CPU seconds their limits may ask for per ``rate_window``.
    max_runs_in_progress: int = 1
    run_cpu_per_window: float = 30.0
    #: Longest a ``?wait=true`` request is held before it answers with the current state.
    wait_timeout: float = 60.0
    #: Anyone may create an account on the login page.
    open_signup: bool = True
    #: Who may read /metrics (queue depths, worker counts): "admin" or "public".
    metrics_access: str = "admin"
    #: Mark the session cookie Secure (set when served over HTTPS).
    secure_cookies: bool = False
    run_maxima: RunMaxima = field(default_factory=RunMaxima)
    #: Where the Judge0-compatible API lives, and whether it serves callers without a token.
    judge0_prefix: str = "/judge0"
    judge0_anonymous: bool = False


def load() -> Settings:
    """Settings from the environment; ConfigError names the first bad variable."""
    return Settings(
        secret_key=_secret_key(),
        max_source_bytes=env.integer("JUDGE_MAX_SOURCE_BYTES"),
        max_body_bytes=env.integer("JUDGE_MAX_BODY_BYTES"),
        max_queued=env.integer("JUDGE_MAX_QUEUED"),
        rate_limit=env.integer("JUDGE_RATE_LIMIT"),
        rate_window=env.number("JUDGE_RATE_WINDOW"),
        login_failures_per_address=env.integer("JUDGE_LOGIN_FAILURES_PER_ADDRESS"),
        login_failures_per_name=env.integer("JUDGE_LOGIN_FAILURES_PER_NAME"),
        login_window=env.number("JUDGE_LOGIN_WINDOW"),
        signups_per_address=env.integer("JUDGE_SIGNUPS_PER_ADDRESS"),
        max_unfinished=env.integer("JUDGE_MAX_UNFINISHED"),
        max_runs_in_progress=env.integer("JUDGE_MAX_RUNS_IN_PROGRESS"),
        run_cpu_per_window=env.number("JUDGE_RUN_CPU_PER_WINDOW"),
        wait_timeout=env.number("JUDGE_WAIT_TIMEOUT"),
        open_signup=env.flag("JUDGE_OPEN_SIGNUP"),
        metrics_access=env.choice("JUDGE_METRICS"),
        secure_cookies=env.flag("JUDGE_SECURE_COOKIES"),
        judge0_prefix=_prefix(env.text("JUDGE_JUDGE0_PREFIX")),
        judge0_anonymous=env.flag("JUDGE_JUDGE0_ANONYMOUS"),
    )


def _prefix(raw: str) -> str:
    prefix = raw.rstrip("/")
    if not prefix.startswith("/") or prefix.startswith(("/api", "/static")) or " " in prefix:
        raise ConfigError(
            f"JUDGE_JUDGE0_PREFIX={raw!r}: a path such as /judge0, outside /api and /static"
        )
    return prefix


def data_path(*parts: str) -> Path:
    return data_dir().joinpath(*parts)
