"""One database engine per process: pool connections must never cross a fork.

And no fork may happen while a thread of this process is inside a transaction: SQLite keeps
its file-lock bookkeeping in the process (one record per database file), and a child forked
while another thread holds a write lock inherits a record saying that lock is held here, by a
connection the child does not have. Every write of the child then fails with "database is
locked", forever (a Celery pool process forked to replace a killed one, while the main
process's sweeper was writing, never graded again). `guard_forks` makes a fork wait until
every connection of this process's engine is back in its pool (transactions ended).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

import store

log = logging.getLogger(__name__)

_engines: dict[int, tuple[Engine, sessionmaker[Session]]] = {}

#: How long a fork waits for the connections in use to come back before it goes ahead.
FORK_WAIT_SECONDS = 30.0


def sessions() -> sessionmaker[Session]:
    """The session factory of this process, made on first use (after any fork)."""
    pid = os.getpid()
    if pid not in _engines:
        # An engine inherited from the parent stays referenced but unused: closing it here
        # would close the parent's sockets too.
        engine = store.make_engine()
        _engines[pid] = (engine, store.session_factory(engine))
    return _engines[pid][1]


class _ForkGuard:
    """Counts the connections of one engine checked out of its pool; holds forks off while
    any is."""

    def __init__(self) -> None:
        self.idle = threading.Condition()
        self.in_use = 0
        self.pid = os.getpid()  # (forks of other processes are not ours to hold)

    def checked_out(self, *_: Any) -> None:
        with self.idle:
            self.in_use += 1

    def checked_in(self, *_: Any) -> None:
        with self.idle:
            self.in_use -= 1
            self.idle.notify_all()

    def before_fork(self) -> None:
        if os.getpid() != self.pid:
            return
        self.idle.acquire()  # held across the fork: no new checkout meanwhile
        deadline = time.monotonic() + FORK_WAIT_SECONDS
        while self.in_use > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("fork: %d database connection(s) still in use after %.0f s",
                            self.in_use, FORK_WAIT_SECONDS)
                break
            self.idle.wait(left)

    def after_fork_in_parent(self) -> None:
        if os.getpid() == self.pid:
            self.idle.release()

    def after_fork_in_child(self) -> None:
        # The child's copy of the lock is held by its only thread: a fresh one, and the
        # child's forks are not held (it has an engine of its own, made on first use).
        self.idle = threading.Condition()
        self.in_use = 0


_guard: _ForkGuard | None = None


def guard_forks() -> None:
    """Make this process's forks wait for its database connections to be back in the pool
    (the Celery main process calls it before its own threads start using the database)."""
    global _guard
    if _guard is not None and _guard.pid == os.getpid():
        return
    sessions()
    engine = _engines[os.getpid()][0]
    guard = _ForkGuard()
    event.listen(engine, "checkout", guard.checked_out)
    event.listen(engine, "checkin", guard.checked_in)
    os.register_at_fork(before=guard.before_fork, after_in_parent=guard.after_fork_in_parent,
                        after_in_child=guard.after_fork_in_child)
    _guard = guard
