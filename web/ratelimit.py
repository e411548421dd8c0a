"""A per-user sliding-window rate limit, kept in this process's memory.

One web process per machine is the deployment `judge up` makes; several web processes would each
allow the limit (documented). Keeping it in memory means a Redis hiccup never blocks submitting.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Hashable

_PRUNE_AT = 10_000


class RateLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()  # sync endpoints run on a thread pool

    def hit(self, key: Hashable) -> float | None:
        """Count one request; None if allowed, else the seconds until one would be."""
        wait = self.blocked(key)
        if wait is None:
            self.add(key)
        return wait

    def blocked(self, key: Hashable) -> float | None:
        """Without counting: None if one more is allowed, else the seconds until it would be."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.get(key)
            if q is None:
                return None
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(0.0, q[0] + self.window - now)
            return None

    def add(self, key: Hashable) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) >= _PRUNE_AT:
                self._prune(now)
            self._hits.setdefault(key, deque()).append(now)

    def _prune(self, now: float) -> None:
        # Keys are client addresses and names too: forget the ones with nothing in the window,
        # so many addresses cannot grow this without bound.
        stale = [k for k, q in self._hits.items() if not q or q[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
