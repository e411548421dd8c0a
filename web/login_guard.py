"""Throttled log-in and sign-up, and password hashing that cannot take the cores (issue 14,
finding 4).

100 wrong passwords in 3.4 s were followed by a successful login, and 20 anonymous clients
posting logins took 1.9 of the 2 cores (scrypt is meant to be expensive). Now:

- failed logins are counted per client address and per account name; past either limit the
  next attempt is refused (429, Retry-After) before any hashing, right password or not;
- sign-ups are counted per client address;
- every scrypt (login, sign-up, password change) runs under a semaphore of half the cores, so
  logins queue behind each other instead of in front of grading; a login that cannot get a
  slot within a few seconds is a 503.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from web.config import Settings
from web.errors import ApiError
from web.ratelimit import RateLimiter

#: Longest a login waits for a hashing slot before answering 503.
HASH_WAIT = 5.0


class LoginGuard:
    def __init__(self, settings: Settings) -> None:
        window = settings.login_window
        self.by_address = RateLimiter(settings.login_failures_per_address, window)
        self.by_name = RateLimiter(settings.login_failures_per_name, window)
        self.signups = RateLimiter(settings.signups_per_address, 3600.0)
        cores = len(os.sched_getaffinity(0))
        self._hashing = threading.BoundedSemaphore(max(1, cores // 2))

    def check_login(self, address: str, name: str) -> None:
        """429 if this address or this name has failed too often lately."""
        waits = [w for w in (self.by_address.blocked(("addr", address)),
                             self.by_name.blocked(("name", name.lower()))) if w is not None]  # fmt: skip
        if waits:
            raise ApiError(429, "too many failed logins; try again later",
                           headers={"Retry-After": RateLimiter.retry_after(max(waits))})  # fmt: skip

    def failed_login(self, address: str, name: str) -> None:
        self.by_address.add(("addr", address))
        self.by_name.add(("name", name.lower()))

    def check_signup(self, address: str) -> None:
        wait = self.signups.hit(("addr", address))
        if wait is not None:
            raise ApiError(429, "too many new accounts from this address; try again later",
                           headers={"Retry-After": RateLimiter.retry_after(wait)})  # fmt: skip

    @contextlib.contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold a hashing slot (a thread: scrypt blocks it for ~50 ms)."""
        if not self._hashing.acquire(timeout=HASH_WAIT):
            raise ApiError(503, "the server is busy; try again shortly",
                           headers={"Retry-After": "2"})  # fmt: skip
        try:
            yield
        finally:
            self._hashing.release()
