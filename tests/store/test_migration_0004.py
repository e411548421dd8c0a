"""Migration 0004 adds what problem packages need without touching existing rows."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

import store
from tests.store.old_rows import insert_problem


def _seed_0003(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        insert_problem(c)
        c.execute(text(
            "INSERT INTO test_cases (id, problem_id, \"index\", input, output, points)"
            " VALUES (1, 1, 1, :i, :o, 1.0)"
        ), {"i": b"1 2\n", "o": b"3\n"})  # fmt: skip
        c.execute(text(
            "INSERT INTO submissions (id, problem_id, language, source, queue, status,"
            " attempts, created_at) VALUES (1, 1, 'python3', 'print(3)', 'interactive',"
            " 'done', 1, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    engine.dispose()


def test_upgrade_keeps_rows_and_downgrade_removes_the_additions(db_url: str) -> None:
    store.upgrade(db_url, "0003")
    _seed_0003(db_url)
    store.upgrade(db_url)
    sessions = store.session_factory(store.make_engine(db_url))
    with sessions() as s:
        p = s.get(store.Problem, 1)
        assert p is not None and p.scoring is None and p.limits is None and p.package is None
        assert [(t.sample, t.name, t.input) for t in p.tests] == [(False, None, b"1 2\n")]
        sub = s.get(store.Submission, 1)
        assert sub is not None and sub.files is None and sub.source == "print(3)"
        assert p.submissions_shipped == [] and p.files == []

    store.downgrade(db_url, "0003")
    engine = create_engine(db_url)
    tables = inspect(engine).get_table_names()
    assert "package_submissions" not in tables and "problem_files" not in tables
    assert "sample" not in {c["name"] for c in inspect(engine).get_columns("test_cases")}
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM submissions")).scalar() == 1
        assert c.execute(text("SELECT count(*) FROM test_cases")).scalar() == 1
    engine.dispose()
