"""One database engine per process: pool connections must never cross a fork."""

from __future__ import annotations

import os

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import store

_engines: dict[int, tuple[Engine, sessionmaker[Session]]] = {}


def sessions() -> sessionmaker[Session]:
    """The session factory of this process, made on first use (after any fork)."""
    pid = os.getpid()
    if pid not in _engines:
        # An engine inherited from the parent stays referenced but unused: closing it here
        # would close the parent's sockets too.
        engine = store.make_engine()
        _engines[pid] = (engine, store.session_factory(engine))
    return _engines[pid][1]
