"""user roles and states, problem visibility and deletion

Revision ID: 0006
Revises: 0005

- ``users.is_staff``: course staff see every submission and its details, but administer
  nothing. ``users.disabled``: no login, no token, no session. ``users.display_name``: the
  name a class list gives (shown beside the login name).
- ``problems.visibility``: ``public`` (listed), ``hidden`` (reachable by its link only) or
  ``draft`` (admins and staff only). ``problems.deleted_at``: deleted by an admin; the row
  stays so that its submissions keep their history.

Defaulted columns, so the ALTERs are plain on SQLite too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USER_COLUMNS = ("is_staff", "disabled", "display_name")
_PROBLEM_COLUMNS = ("visibility", "deleted_at")


def upgrade() -> None:
    op.add_column("users", sa.Column("is_staff", sa.Boolean(), server_default=sa.false(),
                                     nullable=False))  # fmt: skip
    op.add_column("users", sa.Column("disabled", sa.Boolean(), server_default=sa.false(),
                                     nullable=False))  # fmt: skip
    op.add_column("users", sa.Column("display_name", sa.String(length=200), server_default="",
                                     nullable=False))  # fmt: skip
    op.add_column("problems", sa.Column("visibility", sa.String(length=16),
                                        server_default="public", nullable=False))  # fmt: skip
    op.add_column("problems", sa.Column("deleted_at", sa.DateTime(timezone=True),
                                        nullable=True))  # fmt: skip


def downgrade() -> None:
    # Not a batch rebuild: on SQLite that recreates the table, and with foreign keys on the
    # drop cascades to every test and submission.
    drops = [("users", c) for c in reversed(_USER_COLUMNS)]
    drops += [("problems", c) for c in reversed(_PROBLEM_COLUMNS)]
    for table, column in drops:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
