"""Migration 0007 adds the problem set tables and submissions.problem_set_id, and removes them
again without touching existing rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, inspect, select, text

import store
from store import problem_sets
from store.models import ProblemSet
from tests.store.old_rows import insert_problem

SET_TABLES = {"problem_sets", "problem_set_problems", "problem_set_members"}


def test_sets_come_and_go_and_submissions_stay(db_url: str) -> None:
    store.upgrade(db_url, "0006")
    engine = create_engine(db_url)
    with engine.begin() as c:
        insert_problem(c)
        c.execute(text("INSERT INTO users (id, name, is_admin, created_at) VALUES"
                       " (1, 'ann', false, CURRENT_TIMESTAMP)"))  # fmt: skip
        c.execute(text(
            "INSERT INTO submissions (id, problem_id, user_id, language, source, queue, status,"
            " attempts, created_at) VALUES (1, 1, 1, 'python3', 'print(1)', 'interactive',"
            " 'done', 1, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    assert not SET_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()

    store.upgrade(db_url)
    sessions = store.session_factory(store.make_engine(db_url))
    with sessions() as s:
        start = datetime(2026, 12, 1, 10, tzinfo=UTC)
        problem_sets.save(s, problem_sets.SetData(
            slug="week1", title="Week 1", problems=("aplusb",), starts_at=start,
            style="icpc", members=("ann",)))  # fmt: skip
        s.commit()
        sub = s.get(store.Submission, 1)
        assert sub is not None and sub.problem_set_id is None
        pset = s.scalars(select(ProblemSet)).one()
        assert (pset.starts_at, pset.late_policy, pset.freeze_minutes) == (start, "late", 0)
        assert [m.user.name for m in pset.members] == ["ann"]
        sub.problem_set_id = pset.id
        s.commit()

    store.downgrade(db_url, "0006")
    engine = create_engine(db_url)
    assert not SET_TABLES & set(inspect(engine).get_table_names())
    columns = {c["name"] for c in inspect(engine).get_columns("submissions")}
    assert "problem_set_id" not in columns
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM submissions")).scalar() == 1
        assert c.execute(text("SELECT name FROM users")).scalar() == "ann"
    engine.dispose()
