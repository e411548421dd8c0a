"""webhooks

Revision ID: 0009
Revises: 0008

- ``webhook_deliveries``: the outbox of webhooks, written with the verdict they report.
- ``submission_callbacks``: a submission's ``callback_url`` and the token that set it.
- ``api_tokens.webhook_secret``: signs that token's webhooks.
- ``judge0_submissions.token_id``: the token a Judge0 submission was made with.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("delivered_at", when, nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
    )
    op.create_index("ix_webhook_deliveries_state_next", "webhook_deliveries", ["state", "next_at"])
    op.create_table(
        "submission_callbacks",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.add_column("api_tokens", sa.Column("webhook_secret", sa.String(length=64), nullable=True))
    with op.batch_alter_table("judge0_submissions") as batch:
        batch.add_column(sa.Column("token_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_judge0_submissions_token_id", "api_tokens", ["token_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("judge0_submissions") as batch:
        batch.drop_constraint("fk_judge0_submissions_token_id", type_="foreignkey")
        batch.drop_column("token_id")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE api_tokens DROP COLUMN webhook_secret")
    else:
        op.drop_column("api_tokens", "webhook_secret")
    op.drop_table("submission_callbacks")
    op.drop_index("ix_webhook_deliveries_state_next", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
