"""Migration 0010 adds a batch's callback columns (empty for existing batches) and removes them
again without touching rows."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, select, text

import store
from tests.store.old_rows import insert_problem


def test_existing_batches_have_no_callback_and_downgrade_keeps_them(db_url: str) -> None:
    store.upgrade(db_url, "0009")
    engine = create_engine(db_url)
    with engine.begin() as c:
        insert_problem(c)
        c.execute(text(
            "INSERT INTO batches (id, problem_id, kind, created_at) VALUES"
            " (1, 1, 'upload', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    engine.dispose()

    store.upgrade(db_url)
    sessions = store.session_factory(store.make_engine(db_url))
    with sessions() as s:
        b = s.scalars(select(store.Batch)).one()
        assert (b.callback_url, b.callback_token_id, b.callback_queued_at) == (None, None, None)
        b.callback_url = "https://example.org/hook"
        s.commit()

    store.downgrade(db_url, "0009")
    engine = create_engine(db_url)
    columns = {c["name"] for c in inspect(engine).get_columns("batches")}
    assert not columns & {"callback_url", "callback_token_id", "callback_queued_at"}
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM batches")).scalar() == 1
    engine.dispose()
