"""problem sets: assignments and contests with a window, members and standings

Revision ID: 0007
Revises: 0006

Three new tables, and ``submissions.problem_set_id``: the set a submission was made through
(whether it is late follows from its time and the set's end). Whether a submission counts in
a set's standings follows from its time, user and problem, however it was submitted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problem_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(length=64), nullable=False, unique=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_policy", sa.String(length=16), server_default="late", nullable=False),
        sa.Column("style", sa.String(length=16), server_default="ioi", nullable=False),
        sa.Column("freeze_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("everyone", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "problem_set_problems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("set_id", sa.Integer(),
                  sa.ForeignKey("problem_sets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("problem_id", sa.Integer(),
                  sa.ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("set_id", "problem_id", name="uq_problem_set_problems_problem"),
    )  # fmt: skip
    op.create_index("ix_problem_set_problems_problem_id", "problem_set_problems", ["problem_id"])
    op.create_table(
        "problem_set_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("set_id", sa.Integer(),
                  sa.ForeignKey("problem_sets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("set_id", "user_id", name="uq_problem_set_members_user"),
    )  # fmt: skip
    op.create_index("ix_problem_set_members_user_id", "problem_set_members", ["user_id"])
    op.add_column("submissions", sa.Column("problem_set_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Not a batch rebuild: on SQLite that recreates the table, and with foreign keys on the
    # drop cascades to every test result.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE submissions DROP COLUMN problem_set_id")
    else:
        op.drop_column("submissions", "problem_set_id")
    op.drop_index("ix_problem_set_members_user_id", table_name="problem_set_members")
    op.drop_table("problem_set_members")
    op.drop_index("ix_problem_set_problems_problem_id", table_name="problem_set_problems")
    op.drop_table("problem_set_problems")
    op.drop_table("problem_sets")
