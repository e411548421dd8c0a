"""Which submissions have a live wake-up message in the broker right now.

The database row is the job and a Celery message only wakes a worker for it (DESIGN 6), so a
``queued`` row whose message was lost (a task acknowledged while the database was down, a send
that failed while Redis was) waits until someone sends another. The sweeper asks this module
which queued rows still have a message on the way, and re-sends only the others: blindly
re-sending every waiting row would add a whole backlog's worth of duplicates at every pass.

It reads kombu's Redis layout (kombu.transport.redis), read-only:
- each queue is a list named after it (``interactive``, ``batch``; a priority above 0 goes to
  ``<queue>\\x06\\x16<priority>``), holding messages not yet delivered;
- ``unacked`` is a hash of delivery tag -> [message, exchange, routing key] of delivered messages
  a worker holds (running, or waiting for their countdown), and ``unacked_index`` a sorted set of
  the same tags scored by delivery time.
A message is JSON: ``headers.task`` names the task and ``body`` (base64) is [args, kwargs, embed].
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from worker.redis_clients import PerProcess

log = logging.getLogger(__name__)

UNACKED = "unacked"
UNACKED_INDEX = "unacked_index"
PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)  # kombu's steps above the default 0

#: Live submission ids, or None when the broker cannot be read (then nothing is re-sent early).
Live = Callable[[], set[int] | None]


def submission_of(raw: bytes | str, task: str) -> int | None:
    """The submission id a raw kombu message wakes up, or None if it is not a ``task`` message."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):  # an ``unacked`` entry: [message, exchange, routing key]
            message = message[0]
        if message.get("headers", {}).get("task") != task:
            return None
        body: Any = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, kwargs, *_ = json.loads(body)
        sid = args[0] if args else kwargs.get("submission_id")
        return int(sid)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None  # not ours, or a format we do not know: never a reason to fail a sweep


def _eta(raw: bytes | str) -> float:
    """When a held message is due (its countdown's ETA), as a Unix time; 0 if it has none."""
    try:
        message = json.loads(raw)[0]
        eta = message.get("headers", {}).get("eta")
        return datetime.fromisoformat(eta).timestamp() if eta else 0.0
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return 0.0


class RedisWakeups:
    """Reads the broker's queues; ``grace``: how long a delivered message still counts as live
    after it was delivered or came due. Longer means a worker that took a message and died
    (or could not acknowledge it) delays the re-send more."""

    def __init__(self, url: str, queues: Iterable[str], task: str, grace: float) -> None:
        self._client = PerProcess(lambda: url, timeout=5.0)
        self._lists = [
            name for q in queues for name in (q, *(f"{q}{PRIORITY_SEP}{p}" for p in PRIORITY_STEPS))
        ]
        self._task = task
        self._grace = grace

    def __call__(self) -> set[int] | None:
        try:
            return self._read()
        except Exception as e:
            log.warning("cannot read the broker's queues (%s): no early re-sends this pass", e)
            return None

    def _read(self) -> set[int]:
        r = self._client.get()
        pipe = r.pipeline(transaction=False)
        for name in self._lists:
            pipe.lrange(name, 0, -1)
        pipe.hgetall(UNACKED)
        pipe.zrange(UNACKED_INDEX, 0, -1, withscores=True)
        *lists, unacked, index = pipe.execute()
        live = {sid for raws in lists for raw in raws if (sid := self._sid(raw)) is not None}
        delivered = {tag: score for tag, score in index}
        recent = time.time() - self._grace
        for tag, raw in unacked.items():
            sid = self._sid(raw)
            if sid is None:
                continue
            # Held by a worker: live while it runs or waits out its countdown; one held far
            # longer belongs to a worker that died or lost the broker (Redis gives it back
            # only after the visibility timeout, an hour).
            if max(delivered.get(tag, 0.0), _eta(raw)) > recent:
                live.add(sid)
        return live

    def _sid(self, raw: bytes | str) -> int | None:
        return submission_of(raw, self._task)


#: Seconds between the two reads of the broker that find a wake-up lost (see ``lost``).
CONFIRM_DELAY = 0.2


def lost(candidates: list[int], live: Live, confirm_delay: float = CONFIRM_DELAY) -> list[int]:
    """The candidates with no message in the broker, seen so in two reads ``confirm_delay``
    apart: kombu moves a delivered message from its queue list to the unacked hash in two
    steps, and one caught between them is in neither. [] when the broker cannot be read."""
    if not candidates:
        return []
    present = live()
    if present is None:
        return []
    missing = [i for i in candidates if i not in present]
    if not missing:
        return []
    time.sleep(confirm_delay)
    again = live()
    if again is None:
        return []
    return [i for i in missing if i not in again]
