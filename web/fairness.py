"""Per-user shares of the workers (DESIGN 5.11, issue 14 finding 3).

The workers are few (one per core) and first come, first served: three 10-second runs from
one account held another user's verdict back 30 s. So each user gets:

- at most ``max_unfinished`` submissions waiting or grading, runs in progress included;
- at most ``max_runs_in_progress`` runs at once (a run holds a worker for its whole limit);
- runs charged by the CPU time their limits ask for, ``run_cpu_per_window`` seconds per
  ``rate_window``: a run asking 10 s costs what ten 1-second runs cost.

Beyond any of these a request gets 429 with Retry-After. Runs in progress are counted in
this process (they are requests it is holding); submissions are counted in the database.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import Submission
from store.models import unfinished
from web.config import Settings
from web.errors import ApiError


class Fairness:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._runs: dict[int, int] = {}  # user -> runs in progress here
        self._charges: dict[int, deque[tuple[float, float]]] = {}  # user -> (when, cpu s)

    def check_submission(self, session: Session, user_id: int) -> None:
        """429 unless the user may add one more submission."""
        self._check_unfinished(self.unfinished_submissions(session, user_id), user_id)

    @staticmethod
    def unfinished_submissions(session: Session, user_id: int) -> int:
        # Through the partial index over unfinished rows: counted at every submission, this
        # read the user's whole history (15 ms at 100,000 earlier submissions on SQLite).
        return session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.user_id == user_id, unfinished(Submission.status))
        ) or 0

    @contextlib.contextmanager
    def run(self, user_id: int, cpu_time: float, unfinished: int) -> Iterator[None]:
        """Hold a run slot for the user while the run is in progress; 429 if none is free
        or the CPU budget of the window is spent. `unfinished`: the user's submissions
        waiting or grading (unfinished_submissions)."""
        s = self.settings
        self._check_unfinished(unfinished, user_id)
        now = time.monotonic()
        with self._lock:
            if self._runs.get(user_id, 0) >= s.max_runs_in_progress:
                raise ApiError(429, f"at most {s.max_runs_in_progress} run(s) at once",
                               headers={"Retry-After": "1"})  # fmt: skip
            charges = self._charges.setdefault(user_id, deque())
            while charges and charges[0][0] <= now - s.rate_window:
                charges.popleft()
            spent = sum(cpu for _, cpu in charges)
            if charges and spent + cpu_time > s.run_cpu_per_window:
                wait = charges[0][0] + s.rate_window - now
                raise ApiError(
                    429,
                    f"runs may ask for at most {s.run_cpu_per_window:g} CPU seconds per"
                    f" {s.rate_window:g} s ({spent:g} s asked already)",
                    headers={"Retry-After": str(max(1, int(wait) + 1))},
                )
            charges.append((now, cpu_time))
            self._runs[user_id] = self._runs.get(user_id, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._runs.get(user_id, 1) - 1
                if left:
                    self._runs[user_id] = left
                else:
                    self._runs.pop(user_id, None)

    def _check_unfinished(self, waiting: int, user_id: int) -> None:
        s = self.settings
        with self._lock:
            runs = self._runs.get(user_id, 0)
        if waiting + runs >= s.max_unfinished:
            raise ApiError(
                429,
                f"you have {waiting + runs} submissions and runs unfinished; at most"
                f" {s.max_unfinished} at once",
                headers={"Retry-After": "5"},
            )
