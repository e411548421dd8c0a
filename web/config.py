"""Web settings from ``JUDGE_*`` environment variables, validated once at start.

A bad value stops the server at start with a message naming the variable, instead of surfacing
as an odd failure on some later request.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from store.db import data_dir


class ConfigError(ValueError):
    """A ``JUDGE_*`` variable has a value the server cannot use; the message names it."""


def _number(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: a number is expected") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: must be at least {minimum:g}")
    return value


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    return int(_number(name, default, minimum=minimum))


def _secret_key() -> bytes:
    """``JUDGE_SECRET_KEY``, else a random key kept in the data dir so restarts keep sessions."""
    raw = os.environ.get("JUDGE_SECRET_KEY")
    if raw:
        return raw.encode()
    path = data_dir() / "secret_key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
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
    #: Longest a ``?wait=true`` request is held before it answers with the current state.
    wait_timeout: float = 60.0
    #: Anyone may create an account on the login page.
    open_signup: bool = True
    #: Mark the session cookie Secure (set when served over HTTPS).
    secure_cookies: bool = False
    run_maxima: RunMaxima = field(default_factory=RunMaxima)


def load() -> Settings:
    """Settings from the environment; ConfigError names the first bad variable."""
    return Settings(
        secret_key=_secret_key(),
        max_source_bytes=_int("JUDGE_MAX_SOURCE_BYTES", 256 << 10, minimum=1),
        max_body_bytes=_int("JUDGE_MAX_BODY_BYTES", 64 << 20, minimum=1024),
        max_queued=_int("JUDGE_MAX_QUEUED", 1000, minimum=1),
        rate_limit=_int("JUDGE_RATE_LIMIT", 30, minimum=1),
        rate_window=_number("JUDGE_RATE_WINDOW", 60.0, minimum=0.001),
        wait_timeout=_number("JUDGE_WAIT_TIMEOUT", 60.0, minimum=0.0),
        open_signup=os.environ.get("JUDGE_OPEN_SIGNUP", "1").lower() not in ("0", "false", "no"),
        secure_cookies=os.environ.get("JUDGE_SECURE_COOKIES", "0").lower() in ("1", "true", "yes"),
    )


def data_path(*parts: str) -> Path:
    return data_dir().joinpath(*parts)
