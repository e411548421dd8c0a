"""batch callbacks

Revision ID: 0010
Revises: 0009

- ``batches.callback_url`` and ``batches.callback_token_id``: a webhook when every item of the
  batch has ended (store.webhooks.queue_finished_batches, run by the sweeper), signed with that
  token's secret. No foreign key: SQLite cannot add one to an existing table; a batch whose
  token was revoked meanwhile has its callback dropped, never sent unsigned.
- ``batches.callback_queued_at``: set once, by the conditional UPDATE that queues the delivery,
  so two sweepers never queue it twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("callback_url", "callback_token_id", "callback_queued_at")


def upgrade() -> None:
    op.add_column("batches", sa.Column("callback_url", sa.Text(), nullable=True))
    op.add_column("batches", sa.Column("callback_token_id", sa.Integer(), nullable=True))
    op.add_column("batches", sa.Column("callback_queued_at", sa.DateTime(timezone=True),
                                       nullable=True))  # fmt: skip


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE batches DROP COLUMN {column}")
        else:
            op.drop_column("batches", column)
