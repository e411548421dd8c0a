"""Rows written with plain SQL into a database at an older revision, before a migration runs:
the columns every revision since 0001 has, nothing the ORM would fill in."""

from __future__ import annotations

from sqlalchemy import Connection, text

_PROBLEM = text(
    "INSERT INTO problems (id, slug, title, statement, time_limit, memory_limit,"
    " output_limit, checker, stop_on_failure, created_at, updated_at) VALUES"
    " (:id, :slug, 'A+B', '', 1.0, 268435456, 16777216, '{\"type\": \"tokens\"}',"
    " true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def insert_problem(c: Connection, problem_id: int = 1, slug: str = "aplusb") -> None:
    c.execute(_PROBLEM, {"id": problem_id, "slug": slug})
