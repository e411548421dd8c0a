"""The SQLite database is created readable by its owner alone (issue 14, finding 14): it holds
hidden tests and password hashes, and SQLite would create it 0644 under the usual umask."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

import store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_directories_are_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "deep" / "judge.db"
    engine = store.init_db(f"sqlite:///{db}")
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (name, is_admin, created_at) VALUES ('x', false, '2026-01-01')"))
    try:
        assert _mode(db) == 0o600
        assert _mode(db.parent) == 0o700 and _mode(db.parent.parent) == 0o700
        wal = db.with_name("judge.db-wal")
        assert wal.exists() and _mode(wal) == 0o600  # SQLite copies the database's mode
    finally:
        engine.dispose()


def test_what_the_owner_made_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    db = shared / "judge.db"
    db.touch(mode=0o640)
    db.chmod(0o640)
    store.init_db(f"sqlite:///{db}").dispose()
    assert _mode(shared) == 0o755 and _mode(db) == 0o640
