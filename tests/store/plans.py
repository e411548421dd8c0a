"""The database's own plans for the statements a piece of code really runs, on SQLite and
PostgreSQL: for tests that a hot query reaches its rows through the intended index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from store.models import Problem, Submission
from store.vocab import Status


def plans_of(session: Session, work: Callable[[], Any]) -> list[str]:
    """Run ``work`` (which uses ``session``), then EXPLAIN each statement it sent, with its
    own parameters, inside a transaction rolled back at the end. On PostgreSQL sequential
    scans are off for the EXPLAIN: a small test table would get one anyway, and what matters
    is which index the planner can use at all (a partial index it cannot prove is never)."""
    sent: list[tuple[str, Any]] = []
    conn = session.connection()

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            sent.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(conn, "before_cursor_execute", record)
    out = []
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in sent:
            rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            out.append("\n".join(str(r[0]) for r in rows))
    else:
        for statement, parameters in sent:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            out.append("\n".join(str(r[-1]) for r in rows))
    session.rollback()
    return out


def reads_only_unfinished(plan: str) -> bool:
    """Whether a plan reaches submissions only through an index that holds no finished rows
    (the partial one, or the status-led sweeper index) or by primary key: never a user's
    whole history, never the whole table."""
    return (
        "ix_submissions_user_id" not in plan
        and "SCAN submissions" not in plan
        and "Seq Scan on submissions" not in plan
        and ("ix_submissions_unfinished_user" in plan or "ix_submissions_status_lease" in plan)
    )


def insert_history(session: Session, user_id: int, finished: int, queued: int) -> int:
    """Give ``user_id`` ``finished`` graded submissions and then ``queued`` held ones on the
    (only) problem, with statistics fresh on PostgreSQL; returns the last one's id."""
    problem_id = session.scalars(select(Problem.id)).one()
    rows = [{"problem_id": problem_id, "user_id": user_id, "language": "python3", "source": "",
             "queue": "interactive", "status": status}
            for status in [Status.DONE] * finished + [Status.QUEUED] * queued]  # fmt: skip
    session.execute(Submission.__table__.insert(), rows)
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("ANALYZE submissions")
        session.commit()
    last: int = session.scalars(select(Submission.id).order_by(Submission.id.desc())).first()
    return last
