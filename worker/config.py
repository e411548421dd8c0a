"""Worker settings, read from the environment once per process."""

from __future__ import annotations

from dataclasses import dataclass

from store import env

#: The broker when ``JUDGE_REDIS_URL`` is unset (``judge up`` always sets it).
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

#: Socket timeouts (seconds) on the broker connections of processes that only send wake-ups
#: (the web). Redis answers in milliseconds; without a timeout a frozen or half-open Redis held
#: a submit 17.6 s (issue 15). A send that fails is not lost work: the row is committed and the
#: sweeper sends its wake-up again. Workers keep blocking reads on purpose: an ack that times out
#: raises before kombu frees the message's prefetch slot, and the worker then stops consuming
#: until it reconnects (seen once in tests/faults/test_broker_timeout.py: "Couldn't ack ...
#: TimeoutError", then nothing consumed for 60 s); kombu's own health check already drops a
#: half-open consuming connection.
SEND_SOCKET_TIMEOUT = 1.0
#: ... and retry a failed send once, at once: enough for a pooled connection that Redis closed
#: when it restarted, and a frozen Redis then costs at most about three timeouts.
SEND_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                     "interval_max": 0.2}  # fmt: skip


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
    #: A queued submission is re-sent after this long whatever the broker holds (a message
    #: held by a worker that died stays in Redis until the visibility timeout).
    requeue_after: float
    #: Delay before retrying after an internal error; doubles with each attempt (max 30 s).
    retry_delay: float
    #: Redis redelivers an unacknowledged message after this long. It must exceed the longest
    #: job, or a slow grading would be handed to a second worker while the first still runs.
    visibility_timeout: float
    #: A queued submission with no message in the broker (a lost wake-up) is re-sent after
    #: this long. Short: a duplicate is harmless, the claim lets only one message grade.
    resend_after: float = 20.0
    #: Networks callbacks may reach although internal (store.webhooks), and how long a
    #: delivery is retried.
    webhook_allow: str = ""
    webhook_retry_for: float = 3600.0


def load() -> Settings:
    """Settings from ``JUDGE_*`` variables; store.env.ConfigError names the first bad one."""
    return Settings(
        redis_url=env.text("JUDGE_REDIS_URL") or DEFAULT_REDIS_URL,
        lease_seconds=env.number("JUDGE_LEASE_SECONDS"),
        max_attempts=env.integer("JUDGE_MAX_ATTEMPTS"),
        sweep_interval=env.number("JUDGE_SWEEP_INTERVAL"),
        requeue_after=env.number("JUDGE_REQUEUE_AFTER"),
        retry_delay=env.number("JUDGE_RETRY_DELAY"),
        visibility_timeout=env.number("JUDGE_VISIBILITY_TIMEOUT"),
        resend_after=env.number("JUDGE_RESEND_AFTER"),
        webhook_allow=env.text("JUDGE_WEBHOOK_ALLOW_NETWORKS"),
        webhook_retry_for=env.number("JUDGE_WEBHOOK_RETRY_FOR"),
    )
