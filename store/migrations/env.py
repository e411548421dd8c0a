"""Alembic environment: migrations run online against the URL set by store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from store.db import make_engine
from store.models import Base

# An arbitrary constant: the advisory lock that serialises concurrent migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 726_453_001


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things: batch mode rebuilds tables when a migration needs it.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `judge migrate`")
run_migrations_online()
