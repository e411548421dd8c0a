"""Worker settings, read from the environment once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    #: Broker. ``judge up`` sets it to the Redis it starts; a bare worker expects a local one.
    redis_url: str
    #: How long a claim holds a submission without news from its worker. Each grading step
    #: (compile, one test) renews it for at least that step's wall-time limit plus this much.
    lease_seconds: float
    #: Gradings of one submission before it ends as IE (counts crashes and internal errors).
    max_attempts: int
    #: How often each worker's sweeper looks for expired leases and forgotten queued rows.
    sweep_interval: float
    #: A queued submission whose wake-up message may have been lost is re-sent after this long.
    requeue_after: float
    #: Delay before retrying after an internal error; doubles with each attempt (max 30 s).
    retry_delay: float
    #: Redis redelivers an unacknowledged message after this long. It must exceed the longest
    #: job, or a slow grading would be handed to a second worker while the first still runs.
    visibility_timeout: float


def load() -> Settings:
    return Settings(
        redis_url=os.environ.get("JUDGE_REDIS_URL", "redis://127.0.0.1:6379/0"),
        lease_seconds=_float("JUDGE_LEASE_SECONDS", 60.0),
        max_attempts=_int("JUDGE_MAX_ATTEMPTS", 3),
        sweep_interval=_float("JUDGE_SWEEP_INTERVAL", 15.0),
        requeue_after=_float("JUDGE_REQUEUE_AFTER", 600.0),
        retry_delay=_float("JUDGE_RETRY_DELAY", 2.0),
        visibility_timeout=_float("JUDGE_VISIBILITY_TIMEOUT", 3600.0),
    )
