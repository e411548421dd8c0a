"""A small per-process cache of values that may be a little stale: computed at most once per
``ttl`` seconds per key, however many requests ask meanwhile.

Live pages poll (a class of 300 watching one set's standings every 2 s is 150 requests a
second); the answer changes only when a submission is graded, so one computation can serve
every poll of the same moment.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, ttl: float, size: int) -> None:
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        # Made outside the lock: two simultaneous misses compute twice, nobody waits on a lock.
        value = make()
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
