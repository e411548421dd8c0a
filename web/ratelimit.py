"""A per-user sliding-window rate limit, kept in this process's memory.

One web process per machine is the deployment `judge up` makes; several web processes would each
allow the limit (documented). Keeping it in memory means a Redis hiccup never blocks submitting.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[int, deque[float]] = {}
        self._lock = threading.Lock()  # sync endpoints run on a thread pool

    def hit(self, key: int) -> float | None:
        """Count one request; None if allowed, else the seconds until one would be."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(0.0, q[0] + self.window - now)
            q.append(now)
            return None

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
