"""users.password_hash: web passwords move into the schema

Revision ID: 0003
Revises: 0002

Until now ``web.accounts`` kept password hashes in a ``web_passwords`` table it created itself on
start, outside these migrations. The hash becomes a nullable column of ``users`` (a user made by
``judge token create`` has no password); any hashes already in ``web_passwords`` are copied over
and that table is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a nullable column needs no table rebuild, so batch mode issues a plain ALTER on SQLite
    # too (a rebuild would drop ``users``, and with foreign keys on that cascades to its rows).
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))

    if "web_passwords" in sa.inspect(op.get_bind()).get_table_names():
        op.execute(
            "UPDATE users SET password_hash = "
            "(SELECT hash FROM web_passwords WHERE web_passwords.user_id = users.id) "
            "WHERE id IN (SELECT user_id FROM web_passwords)"
        )
        op.drop_table("web_passwords")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: it would rebuild ``users`` by dropping it, and with foreign keys on,
        # SQLite empties a dropped table row by row, cascading to tokens and submissions.
        op.execute("ALTER TABLE users DROP COLUMN password_hash")
    else:
        op.drop_column("users", "password_hash")
