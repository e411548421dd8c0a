"""Migration 0006 gives existing users no role and no lock, existing problems public
visibility, and removes the columns again without touching rows."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, select, text

import store
from tests.store.old_rows import insert_problem


def test_existing_rows_get_the_defaults_and_downgrade_keeps_them(db_url: str) -> None:
    store.upgrade(db_url, "0005")
    engine = create_engine(db_url)
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO users (id, name, is_admin, created_at) VALUES"
            " (1, 'ann', false, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        insert_problem(c)
    engine.dispose()

    store.upgrade(db_url)
    sessions = store.session_factory(store.make_engine(db_url))
    with sessions() as s:
        u = s.scalars(select(store.User)).one()
        assert (u.is_staff, u.disabled, u.display_name) == (False, False, "")
        p = s.scalars(select(store.Problem)).one()
        assert (p.visibility, p.deleted_at) == ("public", None)
        u.disabled, p.visibility = True, "draft"
        s.commit()

    store.downgrade(db_url, "0005")
    engine = create_engine(db_url)
    assert not {c["name"] for c in inspect(engine).get_columns("users")} & {
        "is_staff", "disabled", "display_name"}  # fmt: skip
    assert not {c["name"] for c in inspect(engine).get_columns("problems")} & {
        "visibility", "deleted_at"}  # fmt: skip
    with engine.connect() as c:
        assert c.execute(text("SELECT name FROM users")).scalar() == "ann"
        assert c.execute(text("SELECT slug FROM problems")).scalar() == "aplusb"
    engine.dispose()
