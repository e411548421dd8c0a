"""judge0 submissions

Revision ID: 0008
Revises: 0007

- ``judge0_submissions``: runs made through the Judge0-compatible API (``web.judge0``), stored
  so that a token can be read later and survives restarts; graded by ``worker.judge0`` under
  the same lease columns as submissions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "judge0_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("language_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("source_code", sa.LargeBinary(), nullable=False),
        sa.Column("stdin", sa.LargeBinary(), nullable=True),
        sa.Column("expected_output", sa.LargeBinary(), nullable=True),
        sa.Column("additional_files", sa.LargeBinary(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("stdout", sa.LargeBinary(), nullable=True),
        sa.Column("stderr", sa.LargeBinary(), nullable=True),
        sa.Column("compile_output", sa.LargeBinary(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("time", sa.Float(), nullable=True),
        sa.Column("wall_time", sa.Float(), nullable=True),
        sa.Column("memory", sa.BigInteger(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("exit_signal", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("oom_killed", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", when, nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("enqueued_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("finished_at", when, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_judge0_submissions_user_id", "judge0_submissions", ["user_id"])
    op.create_index(
        "ix_judge0_submissions_status_lease", "judge0_submissions", ["status_id", "lease_until"]
    )


def downgrade() -> None:
    op.drop_index("ix_judge0_submissions_status_lease", table_name="judge0_submissions")
    op.drop_index("ix_judge0_submissions_user_id", table_name="judge0_submissions")
    op.drop_table("judge0_submissions")
