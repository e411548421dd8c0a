"""One Redis client per process, made on first use: a Celery pool process is forked, and
sharing its parent's connections would interleave their replies."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import redis


class PerProcess:
    def __init__(self, url: Callable[[], str], timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._lock = threading.Lock()
        self._client: tuple[int, redis.Redis] | None = None  # (pid, client)

    def get(self) -> redis.Redis:
        with self._lock:
            if self._client is None or self._client[0] != os.getpid():
                client = redis.Redis.from_url(self._url(), socket_timeout=self._timeout,
                                              socket_connect_timeout=self._timeout)
                self._client = (os.getpid(), client)
            return self._client[1]
