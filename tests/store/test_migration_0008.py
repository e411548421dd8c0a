"""Migration 0008 adds the judge0_submissions table (rows survive the ORM round trip) and
drops it again without touching the tables around it."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, inspect, select, text

import store


def test_judge0_table_comes_and_goes_and_leaves_other_rows(db_url: str) -> None:
    store.upgrade(db_url, "0007")
    engine = create_engine(db_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (id, name, is_admin, created_at, session_epoch)"
                       " VALUES (1, 'alice', false, CURRENT_TIMESTAMP, 0)"))  # fmt: skip
    assert "judge0_submissions" not in inspect(engine).get_table_names()
    engine.dispose()

    store.upgrade(db_url)
    token = str(uuid.uuid4())
    sessions = store.session_factory(store.make_engine(db_url))
    with sessions() as s:
        s.add(store.Judge0Submission(
            token=token, user_id=1, language_id=71, language="python3",
            source_code=b"print(1)", stdin=b"\xff", options={"cpu_time_limit": 5.0},
        ))  # fmt: skip
        s.commit()
    with sessions() as s:
        row = s.scalars(select(store.Judge0Submission)).one()
        assert (row.token, row.status_id, row.attempts, row.oom_killed) == (token, 1, 0, False)
        assert row.stdin == b"\xff" and row.options == {"cpu_time_limit": 5.0}
        assert row.created_at.tzinfo is not None

    store.downgrade(db_url, "0007")
    engine = create_engine(db_url)
    assert "judge0_submissions" not in inspect(engine).get_table_names()
    with engine.connect() as c:
        assert c.execute(text("SELECT name FROM users")).scalar() == "alice"
    engine.dispose()
