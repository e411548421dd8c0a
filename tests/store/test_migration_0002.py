"""Migration 0002 (batches and rejudge history) keeps existing rows, both ways, on both backends."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

import store


def _seed_0001(url: str) -> None:
    # Rows as a 0001 database holds them: one batch, one item per submission.
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO problems (id, slug, title, statement, time_limit, memory_limit,"
            " output_limit, checker, stop_on_failure, created_at, updated_at) VALUES (1, 'p', 'P',"
            " '', 1.0, 1000, 1000, '{}', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        for sid in (1, 2):
            c.execute(text(
                "INSERT INTO submissions (id, problem_id, language, source, queue, status,"
                " attempts, created_at) VALUES (:id, 1, 'python3', 'print(1)', 'batch', 'done', 1,"
                " CURRENT_TIMESTAMP)"
            ), {"id": sid})  # fmt: skip
        c.execute(text(
            "INSERT INTO batches (id, problem_id, created_at) VALUES (100, 1, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        c.execute(text(
            "INSERT INTO batch_items (id, batch_id, name, submission_id)"
            " VALUES (100, 100, 'alice', 1), (101, 100, 'bob', 2)"
        ))  # fmt: skip
    engine.dispose()


def test_upgrade_keeps_batches_and_downgrade_drops_what_0001_cannot_hold(db_url: str) -> None:
    store.upgrade(db_url, "0001")
    _seed_0001(db_url)
    store.upgrade(db_url)
    engine = store.make_engine(db_url)
    sessions = store.session_factory(engine)
    with sessions() as s:
        batch = s.get(store.Batch, 100)
        assert batch is not None and batch.kind == "upload" and batch.cancelled_at is None
        assert [(i.name, i.submission_id, i.error) for i in batch.items] == [
            ("alice", 1, None), ("bob", 2, None)
        ]  # fmt: skip
        # What 0002 allows: an item without a submission, and a submission in a second batch.
        again = store.Batch(problem_id=1, kind="rejudge")
        again.items.append(store.BatchItem(name="alice", submission_id=1))
        batch.items.append(store.BatchItem(name="carol.xyz", error="unknown extension"))
        s.add(again)
        s.add(store.SubmissionHistory(submission_id=1, status=store.Status.DONE,
                                      verdict=store.Verdict.AC, tests=[]))  # fmt: skip
        s.commit()
    engine.dispose()

    store.downgrade(db_url, "0001")
    engine = create_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT name, submission_id FROM batch_items ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("alice", 1), ("bob", 2)]
        assert c.execute(text("SELECT COUNT(*) FROM batches")).scalar() == 1
    assert "submission_history" not in inspect(engine).get_table_names()
    engine.dispose()
    store.upgrade(db_url)
