"""Migration 0005 adds problems.test_details ("samples" for existing problems) and removes it
again without touching rows."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, select, text

import store
from tests.store.old_rows import insert_problem


def test_existing_problems_get_the_default_and_downgrade_keeps_rows(db_url: str) -> None:
    store.upgrade(db_url, "0004")
    engine = create_engine(db_url)
    with engine.begin() as c:
        insert_problem(c)
        c.execute(text(
            "INSERT INTO test_cases (id, problem_id, \"index\", input, output, points, sample)"
            " VALUES (1, 1, 1, :i, :o, 2.5, true)"
        ), {"i": b"1 2\n", "o": b"3\n"})  # fmt: skip
    engine.dispose()

    store.upgrade(db_url)
    sessions = store.session_factory(store.make_engine(db_url))
    with sessions() as s:
        p = s.scalars(select(store.Problem)).one()
        assert (p.test_details, p.test_count, p.max_score) == ("samples", 1, 2.5)
        p.test_details = "verdicts"
        s.commit()

    store.downgrade(db_url, "0004")
    engine = create_engine(db_url)
    columns = {c["name"] for c in inspect(engine).get_columns("problems")}
    assert not columns & {"test_details", "test_count", "max_score"}
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM test_cases")).scalar() == 1
        assert c.execute(text("SELECT slug FROM problems")).scalar() == "aplusb"
    engine.dispose()
