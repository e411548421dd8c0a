"""test details, stored test counts, session epochs

Revision ID: 0005
Revises: 0004

- ``problems.test_details``: ``samples`` (the default: details of samples only), ``all`` or
  ``verdicts`` (hidden tests show their verdict alone). See ``web.visibility``.
- ``problems.test_count`` and ``problems.max_score``: kept by ``store.import_problem``, so
  listings never touch the tests (filled here from the tests already there).

- ``users.session_epoch``: carried in session cookies; raising it ends them (logout).

Defaulted columns, so the ALTERs are plain on SQLite too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COLUMNS = ("test_details", "test_count", "max_score")


def upgrade() -> None:
    op.add_column(
        "problems",
        sa.Column("test_details", sa.String(length=16), server_default="samples", nullable=False),
    )
    op.add_column("problems", sa.Column("test_count", sa.Integer(), server_default="0",
                                        nullable=False))  # fmt: skip
    op.add_column("problems", sa.Column("max_score", sa.Float(), server_default="0",
                                        nullable=False))  # fmt: skip
    op.add_column("users", sa.Column("session_epoch", sa.Integer(), server_default="0",
                                     nullable=False))  # fmt: skip
    op.execute(
        "UPDATE problems SET"
        " test_count = (SELECT count(*) FROM test_cases WHERE problem_id = problems.id),"
        " max_score = (SELECT coalesce(sum(points), 0) FROM test_cases"
        " WHERE problem_id = problems.id)"
    )


def downgrade() -> None:
    # Not a batch rebuild: on SQLite that recreates the table, and with foreign keys on the
    # drop cascades to every test and submission.
    drops = [("users", "session_epoch")] + [("problems", c) for c in reversed(_COLUMNS)]
    for table, column in drops:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
