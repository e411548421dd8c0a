"""a partial index on unfinished submissions

Revision ID: 0011
Revises: 0010

- ``ix_submissions_unfinished_user`` on ``submissions (user_id, id)``, only over rows whose
  status is queued, compiling or running. worker.shares ranks a user's unfinished interactive
  submissions by id every time one of them finishes; on ``ix_submissions_user_id`` that read
  the user's whole history (17 ms per finish at 100,000 earlier submissions on SQLite). The
  index holds only the few rows in flight, so the ranking costs the same at any history.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statuses as of this revision (store.models.UNFINISHED), fixed here as migrations must be.
_WHERE = "status IN ('queued', 'compiling', 'running')"


def upgrade() -> None:
    op.create_index(
        "ix_submissions_unfinished_user", "submissions", ["user_id", "id"],
        sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_submissions_unfinished_user", table_name="submissions")
