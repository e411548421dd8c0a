"""Migration 0011 adds the partial index over unfinished submissions (worker.shares' ranking)
and drops it again, without touching rows."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

import store
from tests.store.old_rows import insert_problem


def _indexes(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        return {str(i["name"]) for i in inspect(engine).get_indexes("submissions")}
    finally:
        engine.dispose()


def test_the_unfinished_index_comes_and_goes_with_the_rows_kept(db_url: str) -> None:
    store.upgrade(db_url, "0010")
    engine = create_engine(db_url)
    with engine.begin() as c:
        insert_problem(c)
        c.execute(text(
            "INSERT INTO submissions (id, problem_id, language, source, queue, status, attempts,"
            " created_at) VALUES (1, 1, 'python3', '', 'interactive', 'queued', 0,"
            " CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    engine.dispose()
    assert "ix_submissions_unfinished_user" not in _indexes(db_url)

    store.upgrade(db_url)
    assert "ix_submissions_unfinished_user" in _indexes(db_url)

    store.downgrade(db_url, "0010")
    assert "ix_submissions_unfinished_user" not in _indexes(db_url)
    engine = create_engine(db_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM submissions")).scalar() == 1
    engine.dispose()
