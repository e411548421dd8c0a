"""A token's last-use time, written at most once a minute and never in the request's way.

Writing ``last_used_at`` in the request's own transaction made every bearer-token GET a write:
when the database could not be written (disk full, a read-only replica, a long lock) even reads
failed. Here the write is its own short transaction on a background thread, at most once per
``every`` seconds per token in this process; a failure is logged and forgotten (the next use
after the interval tries again). The time is an operator's hint, not an audit log.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, update

from store.models import ApiToken
from store.types import utcnow

log = logging.getLogger("web")


class TokenUse:
    def __init__(self, engine: Engine, every: float = 60.0) -> None:
        self._engine = engine
        self._every = every
        self._lock = threading.Lock()
        self._last: dict[int, float] = {}  # token id -> monotonic time of the last write
        # One thread: writes queue instead of competing for SQLite's single writer.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token-use")

    def used(self, token_id: int) -> None:
        """Note a use; schedules a write when this token's last one is ``every`` seconds old."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(token_id)
            if last is not None and now - last < self._every:
                return
            self._last[token_id] = now
        with contextlib.suppress(RuntimeError):  # shutting down: the hint can go
            self._pool.submit(self._write, token_id)

    def _write(self, token_id: int) -> None:
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
                )
        except Exception as e:  # any database failure: the request already has its answer
            log.warning("could not record the use of token %s: %s", token_id, e)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
