"""Migration 0003 moves web passwords from ``web_passwords`` into ``users.password_hash``."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

import store


def _seed_0002(url: str, *, with_web_passwords: bool) -> None:
    # What a 0002 database held: users, a token, and (if the web had run) web.accounts' own table.
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO users (id, name, is_admin, created_at) VALUES"
            " (1, 'admin', true, CURRENT_TIMESTAMP), (2, 'carol', false, CURRENT_TIMESTAMP),"
            " (3, 'apionly', false, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        c.execute(text(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at)"
            " VALUES (1, 3, '', 'abc', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        if with_web_passwords:
            c.execute(text(
                "CREATE TABLE web_passwords (user_id INTEGER NOT NULL PRIMARY KEY"
                " REFERENCES users (id) ON DELETE CASCADE, hash VARCHAR(200) NOT NULL)"
            ))  # fmt: skip
            c.execute(text(
                "INSERT INTO web_passwords (user_id, hash) VALUES (1, 'h-admin'), (2, 'h-carol')"
            ))  # fmt: skip
    engine.dispose()


def _hashes(url: str) -> list[tuple[str, str | None]]:
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT name, password_hash FROM users ORDER BY id")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def test_upgrade_copies_web_passwords_and_drops_the_table(db_url: str) -> None:
    store.upgrade(db_url, "0002")
    _seed_0002(db_url, with_web_passwords=True)
    store.upgrade(db_url)
    assert _hashes(db_url) == [("admin", "h-admin"), ("carol", "h-carol"), ("apionly", None)]
    engine = create_engine(db_url)
    assert "web_passwords" not in inspect(engine).get_table_names()
    engine.dispose()


def test_upgrade_without_web_passwords_and_downgrade_keep_users(db_url: str) -> None:
    store.upgrade(db_url, "0002")
    _seed_0002(db_url, with_web_passwords=False)
    store.upgrade(db_url)
    assert _hashes(db_url) == [("admin", None), ("carol", None), ("apionly", None)]

    store.downgrade(db_url, "0002")
    engine = create_engine(db_url)
    assert "password_hash" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as c:
        # Users and what hangs off them survive (no table rebuild cascading deletes).
        assert c.execute(text("SELECT COUNT(*) FROM users")).scalar() == 3
        assert c.execute(text("SELECT COUNT(*) FROM api_tokens")).scalar() == 1
    engine.dispose()
    store.upgrade(db_url)
