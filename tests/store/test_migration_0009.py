"""Migration 0009 adds the webhook outbox, submission callbacks, token secrets and the Judge0
submissions' token; a downgrade removes them and keeps the rows around them."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, inspect, text

import store
from store import webhooks


def test_webhook_tables_come_and_go_keeping_tokens_and_judge0_rows(db_url: str) -> None:
    store.upgrade(db_url, "0008")
    engine = create_engine(db_url)
    token = str(uuid.uuid4())
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (id, name, is_admin, created_at, session_epoch)"
                       " VALUES (1, 'alice', false, CURRENT_TIMESTAMP, 0)"))  # fmt: skip
        c.execute(text("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at)"
                       " VALUES (1, 1, 'cli', 'h', CURRENT_TIMESTAMP)"))  # fmt: skip
        c.execute(text(
            "INSERT INTO judge0_submissions (token, user_id, language_id, language, source_code,"
            " options, status_id, oom_killed, attempts, created_at) VALUES (:t, 1, 71,"
            " 'python3', :src, '{}', 3, false, 1, CURRENT_TIMESTAMP)"
        ), {"t": token, "src": b"print(1)"})  # fmt: skip
    engine.dispose()

    store.upgrade(db_url)
    sessions = store.session_factory(store.make_engine(db_url))
    with sessions() as s:
        assert webhooks.secret_of(s, 1)
        webhooks.queue(s, url="https://x.example/", method="POST", payload={"a": 1},
                             token_id=1)  # fmt: skip
        s.commit()
    engine = create_engine(db_url)
    assert {"webhook_deliveries", "submission_callbacks"} <= set(inspect(engine).get_table_names())
    with engine.connect() as c:
        assert c.execute(text("SELECT token_id FROM judge0_submissions")).scalar() is None
    engine.dispose()

    store.downgrade(db_url, "0008")
    engine = create_engine(db_url)
    names = set(inspect(engine).get_table_names())
    assert not names & {"webhook_deliveries", "submission_callbacks"}
    assert "webhook_secret" not in {c["name"] for c in inspect(engine).get_columns("api_tokens")}
    with engine.connect() as c:
        assert c.execute(text("SELECT token FROM judge0_submissions")).scalar() == token
        assert c.execute(text("SELECT name FROM api_tokens")).scalar() == "cli"
    engine.dispose()
