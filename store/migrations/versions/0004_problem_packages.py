"""problem packages: scoring trees, package limits, samples, shipped submissions, files

Revision ID: 0004
Revises: 0003

- ``problems``: ``scoring`` (a tree of groups), ``limits`` (compile, wall and validation
  limits from a package), ``package`` (format and its time rules), ``input_validators``;
- ``test_cases``: ``sample`` (shown to everyone) and ``name`` (the test's path in its package);
- ``submissions.files``: the other files of a multi-file submission;
- ``package_submissions``: what ``judge problem verify`` grades, with expected verdicts;
- ``problem_files``: statement PDFs and attachments.

Only nullable or defaulted columns are added, so every ALTER is plain on SQLite too (a batch
rebuild would drop the table, and with foreign keys on that cascades to its rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROBLEM_COLUMNS = ("scoring", "limits", "package", "input_validators")


def upgrade() -> None:
    for name in _PROBLEM_COLUMNS:
        op.add_column("problems", sa.Column(name, sa.JSON(), nullable=True))
    op.add_column(
        "test_cases", sa.Column("sample", sa.Boolean(), server_default="0", nullable=False)
    )
    op.add_column("test_cases", sa.Column("name", sa.String(length=255), nullable=True))
    op.add_column("submissions", sa.Column("files", sa.JSON(), nullable=True))
    op.create_table(
        "package_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.Column("expected", sa.JSON(), nullable=False),
        sa.Column("expected_score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["problem_id"], ["problems.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("problem_id", "name", name="uq_package_submissions_name"),
    )
    op.create_index(
        "ix_package_submissions_problem_id", "package_submissions", ["problem_id"]
    )
    op.create_table(
        "problem_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["problem_id"], ["problems.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("problem_id", "name", name="uq_problem_files_name"),
    )
    op.create_index("ix_problem_files_problem_id", "problem_files", ["problem_id"])


def downgrade() -> None:
    op.drop_index("ix_problem_files_problem_id", table_name="problem_files")
    op.drop_table("problem_files")
    op.drop_index("ix_package_submissions_problem_id", table_name="package_submissions")
    op.drop_table("package_submissions")
    op.execute("DELETE FROM batches WHERE kind = 'verify'")
    drops = [("submissions", "files"), ("test_cases", "name"), ("test_cases", "sample")]
    drops += [("problems", name) for name in reversed(_PROBLEM_COLUMNS)]
    for table, column in drops:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
