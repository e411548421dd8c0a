"""Real parts for worker tests: redis-server, Celery worker processes, SQLite and PostgreSQL.

``judge`` is one shared environment (a redis-server, a SQLite database and a two-process Celery
worker) for tests that only submit and wait. Tests that kill workers or need an empty queue make
their own with ``make_judge`` so they cannot disturb the shared one.

Helper modules are loaded by path under names unique to this directory (``judge_test_servers``,
``worker_test_kit``, ``worker_test_programs``), so the tests work with pytest's ``prepend`` and
``importlib`` import modes alike.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

import store

HERE = Path(__file__).resolve().parent


def _load(name: str, path: Path) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


servers = _load("judge_test_servers", HERE.parent / "store" / "servers.py")
kit = _load("worker_test_kit", HERE / "kit.py")
_load("worker_test_programs", HERE / "programs.py")
Judge = kit.Judge
_names = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _end_python_parser() -> Iterator[None]:
    """Grading in this process starts its long-lived Python parser (worker.python_parser):
    by design it lives on between tests, but not past their module. Kept to the session,
    its box outlived the worker tests, and sandbox tests run after them in one process
    (`pytest tests/worker tests/sandbox`) found a box of theirs left after a drain."""
    yield
    from worker import python_parser

    python_parser.shutdown()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite database for `judge` commands run in this process (web.cli.main); their
    metrics go nowhere (no Redis listens on port 1)."""
    url = f"sqlite:///{tmp_path}/j.db"
    monkeypatch.setenv("JUDGE_DATABASE_URL", url)
    monkeypatch.setenv("JUDGE_REDIS_URL", "redis://127.0.0.1:1/0")
    return url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = servers.RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def judge(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    from worker.celery_app import app

    # worker.submit() in this process must reach this judge's broker; nothing sent before this.
    app.conf.broker_url = redis_server.url
    workdir = tmp_path_factory.mktemp("judge")
    j = Judge(workdir, f"sqlite:///{workdir / 'judge.db'}", redis_server)
    try:
        j.start_worker(concurrency=2)
        yield j
    finally:
        j.close()


@pytest.fixture
def make_judge(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Isolated judges: their own redis-server and SQLite file; stopped after the test."""
    made: list[tuple[Any, Any]] = []

    def make(db_url: str | None = None) -> Any:
        workdir = tmp_path / f"judge{len(made)}"
        workdir.mkdir()
        redis = servers.RedisServer(workdir)
        j = Judge(workdir, db_url or f"sqlite:///{workdir / 'judge.db'}", redis)
        made.append((j, redis))
        return j

    try:
        yield make
    finally:
        for j, redis in made:
            j.close()
            redis.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    yield from servers.postgres_session()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'judge.db'}"
    pg = request.getfixturevalue("postgres")
    url: str = pg.create_database(f"worker_{next(_names)}")
    return url


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = store.init_db(db_url)
    try:
        yield store.session_factory(engine)
    finally:
        engine.dispose()
