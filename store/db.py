"""Engines and sessions.

SQLite is the default (``$JUDGE_DATA_DIR/judge.db``, ``./var`` when unset); ``JUDGE_DATABASE_URL``
selects anything SQLAlchemy speaks, PostgreSQL in production (``postgresql+psycopg://...``).

SQLite is made safe for several worker processes: WAL (readers never block the writer), a busy
timeout (writers queue instead of failing), and the driver's default of opening the transaction at
the first write, so a session never holds a read snapshot that it later tries to upgrade to a
write lock (the one case where SQLite gives up at once instead of waiting).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from store import env

SQLITE_BUSY_TIMEOUT_MS = 30_000


def data_dir() -> Path:
    return Path(env.text("JUDGE_DATA_DIR"))


def default_url() -> str:
    """The database URL in force: ``JUDGE_DATABASE_URL``, else SQLite under the data dir."""
    url = env.text("JUDGE_DATABASE_URL")
    if url:
        return normalize_url(url)
    return f"sqlite:///{(data_dir() / 'judge.db').resolve()}"


def normalize_url(url: str) -> str:
    # "postgresql://" alone would make SQLAlchemy look for psycopg2; we ship psycopg 3.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def private_file(path: Path) -> None:
    """Create `path` (and any missing parent directory) readable by its owner alone, before a
    library creates it world-readable: the database holds hidden tests and password hashes.
    An existing file or directory is left as its owner made it."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = normalize_url(url) if url else default_url()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        private_file(Path(parsed.database))
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **kwargs,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose
        # the last transactions, and FULL would cost an fsync per written test result.
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after commit (the web layer serialises them).
    return sessionmaker(engine, expire_on_commit=False)
