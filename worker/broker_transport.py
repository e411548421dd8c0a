"""The Redis transport, with a Redis that refuses commands counted as a lost connection.

A Redis that is out of disk (MISCONF), out of memory (OOM), turned read-only (READONLY, a
replica) or that unblocked our BRPOP because its role changed (UNBLOCKED) answers with a
ResponseError. kombu files those as channel errors, which Celery's consumer treats as
unrecoverable: the worker logged "Unrecoverable error" and exited (issue 15, finding 6).
These are states of a server that comes back, so here they are connection errors: Celery
reconnects with its retry backoff, and the worker is consuming again as soon as Redis
takes writes.
"""

from __future__ import annotations

import kombu.transport  # type: ignore[import-untyped,unused-ignore]
import redis
from kombu.transport import redis as kombu_redis  # type: ignore[import-untyped,unused-ignore]


class Transport(kombu_redis.Transport):  # type: ignore[misc,unused-ignore]
    connection_errors = (*kombu_redis.Transport.connection_errors,
                         redis.exceptions.ResponseError)  # fmt: skip


def install() -> None:
    """Use this transport for redis:// and rediss:// broker URLs in this process."""
    for scheme in ("redis", "rediss"):
        kombu.transport.TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
