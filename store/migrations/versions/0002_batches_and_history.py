"""batches: kind, cancel, per-file errors, one submission in many batches; rejudge history

Revision ID: 0002
Revises: 0001

- ``batches.kind`` ("upload" or "rejudge") and ``batches.cancelled_at``;
- ``batch_items.submission_id`` becomes nullable (a broken file is an item with an ``error`` and
  no submission) and loses its table-wide uniqueness: a submission belongs to its upload batch
  and to every rejudge batch after it, once per batch (``uq_batch_items_batch_submission``);
- ``submission_history``: the grading a rejudge replaced (verdict, score, per-test rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0001 declared ``UniqueConstraint("submission_id")`` without a name. PostgreSQL named it
# batch_items_submission_id_key; SQLite keeps it nameless, so batch mode names it by this
# convention while it rebuilds the table, which is what lets it be dropped there.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}

_VERDICT = sa.Enum(
    "AC", "WA", "PE", "TLE", "MLE", "OLE", "RE", "SV", "CE", "IE", "SK",
    name="verdict", native_enum=False, length=16,
)  # fmt: skip
_STATUS = sa.Enum(
    "queued", "compiling", "running", "done", "error",
    name="status", native_enum=False, length=16,
)  # fmt: skip


def _submission_unique_names() -> list[str]:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return ["uq_batch_items_submission_id"]
    found = sa.inspect(bind).get_unique_constraints("batch_items")
    return [str(c["name"]) for c in found if c["column_names"] == ["submission_id"] and c["name"]]


def upgrade() -> None:
    # Plain ALTERs (never a batch-mode rebuild of ``batches``: see downgrade).
    op.add_column(
        "batches", sa.Column("kind", sa.String(length=16), server_default="upload", nullable=False)
    )
    op.add_column("batches", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("batch_items", naming_convention=_SQLITE_NAMES) as batch_op:
        for name in _submission_unique_names():
            batch_op.drop_constraint(name, type_="unique")
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_batch_items_batch_submission", ["batch_id", "submission_id"]
        )
        batch_op.create_index("ix_batch_items_submission_id", ["submission_id"], unique=False)

    op.create_table(
        "submission_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("verdict", _VERDICT, nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.Column("time", sa.Float(), nullable=True),
        sa.Column("memory", sa.BigInteger(), nullable=True),
        sa.Column("compile_output", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("tests", sa.JSON(), nullable=False),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_submission_history_submission_id", "submission_history", ["submission_id"])
    op.create_index("ix_submission_history_batch_id", "submission_history", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_submission_history_batch_id", table_name="submission_history")
    op.drop_index("ix_submission_history_submission_id", table_name="submission_history")
    op.drop_table("submission_history")
    # 0001 allowed a submission in one batch only and no item without a submission: rejudge
    # batches go (their submissions stay), then error items, then all but a submission's first.
    op.execute("DELETE FROM batch_items WHERE batch_id IN (SELECT id FROM batches"
               " WHERE kind = 'rejudge')")  # fmt: skip
    op.execute("DELETE FROM batches WHERE kind = 'rejudge'")
    op.execute("DELETE FROM batch_items WHERE submission_id IS NULL")
    op.execute(
        "DELETE FROM batch_items WHERE id NOT IN "
        "(SELECT MIN(id) FROM batch_items GROUP BY submission_id)"
    )
    with op.batch_alter_table("batch_items", naming_convention=_SQLITE_NAMES) as batch_op:
        batch_op.drop_index("ix_batch_items_submission_id")
        batch_op.drop_constraint("uq_batch_items_batch_submission", type_="unique")
        batch_op.drop_column("error")
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            "batch_items_submission_id_key"
            if op.get_bind().dialect.name == "postgresql"
            else "uq_batch_items_submission_id",
            ["submission_id"],
        )
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: rebuilding ``batches`` would drop it, and with foreign keys on, SQLite
        # empties a dropped table row by row, cascading to every batch item.
        op.execute("ALTER TABLE batches DROP COLUMN cancelled_at")
        op.execute("ALTER TABLE batches DROP COLUMN kind")
    else:
        op.drop_column("batches", "cancelled_at")
        op.drop_column("batches", "kind")
