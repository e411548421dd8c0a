"""Alembic migrations, driven from code: no alembic.ini is needed at run time."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from store.db import make_engine, normalize_url
from store.env import ConfigError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on a "%" in a password.
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``; safe to call from several processes.
    ConfigError (one line) for a PostgreSQL database that is not UTF-8."""
    check_encoding(url)
    with _migration_lock(url):
        command.upgrade(alembic_config(url), revision)


def check_encoding(url: str) -> None:
    """PostgreSQL must store text as UTF-8: on an SQL_ASCII database psycopg hands back bytes
    and the migration crashed on a string pattern (issue 16), and any other encoding cannot
    hold every program's output. Checked before anything is written."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "postgresql":
        return
    import psycopg  # only PostgreSQL deployments have it loaded

    # Asked of psycopg directly: SQLAlchemy's first connect on such a database already fails
    # (it matches a regex against the server version, which arrives as bytes).
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, connect_timeout=30) as conn:
        encoding = conn.info.parameter_status("server_encoding") or "?"
    if encoding.upper().replace("-", "") != "UTF8":
        raise ConfigError(
            f"JUDGE_DATABASE_URL: database {parsed.database!r} is encoded {encoding}; the judge"
            f" needs UTF8 (createdb -E UTF8 -T template0 {parsed.database})"
        )


def downgrade(url: str, revision: str) -> None:
    with _migration_lock(url):
        command.downgrade(alembic_config(url), revision)


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    # Two processes starting at once (`judge up` with several workers) must not both create the
    # tables. PostgreSQL takes an advisory lock inside env.py; SQLite gets a file lock beside it.
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        yield
        return
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{path}.migrate.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def init_db(url: str | None = None) -> Engine:
    """Migrate the database to the newest schema and return an engine for it."""
    engine = make_engine(url)
    upgrade(engine.url.render_as_string(hide_password=False))
    return engine
