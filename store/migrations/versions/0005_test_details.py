"""test details: how much of each test's result a non-admin sees

Revision ID: 0005
Revises: 0004

- ``problems.test_details``: ``samples`` (the default: details of samples only), ``all`` or
  ``verdicts`` (hidden tests show their verdict alone). See ``web.visibility``.

A defaulted column, so the ALTER is plain on SQLite too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "problems",
        sa.Column("test_details", sa.String(length=16), server_default="samples", nullable=False),
    )


def downgrade() -> None:
    # Not a batch rebuild: on SQLite that recreates the table, and with foreign keys on the
    # drop cascades to every test and submission.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE problems DROP COLUMN test_details")
    else:
        op.drop_column("problems", "test_details")
