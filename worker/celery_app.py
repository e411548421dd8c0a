"""The Celery application: Redis broker, no result backend, at-least-once delivery.

Run a worker with ``python -m worker`` (or ``celery -A worker.celery_app worker -Q
interactive,batch``). The message is only a wake-up; the database row is the job (DESIGN 6).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

# The ignores let mypy pass without the celery-types stubs too (they are unused with them).
from celery import Celery  # type: ignore[import-untyped,unused-ignore]
from celery.signals import (  # type: ignore[import-untyped,unused-ignore]
    setup_logging,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)
from kombu import Queue  # type: ignore[attr-defined,unused-ignore]

from store import logs
from worker import broker_transport, config

log = logging.getLogger(__name__)

QUEUES = ("interactive", "batch")  # consumed in this order: interactive work never waits
GRADE_TASK = "judge.grade"
SWEEP_TASK = "judge.sweep"
RUN_TASK = "judge.run"  # an ad-hoc run (POST /api/runs); see worker.runs
VERIFY_TASK = "judge.verify"  # a package's own submissions graded (admin page); worker.verify_runs
JUDGE0_TASK = "judge.judge0"  # a submission of the Judge0-compatible API; worker.judge0

settings = config.load()
broker_transport.install()

app = Celery("judge", broker=settings.redis_url, include=["worker.tasks"])
app.conf.update(
    # Results live in our tables; a result backend would be a second, unread copy.
    result_backend=None,
    task_ignore_result=True,
    # At-least-once: a message is acknowledged only after its task returns, and a worker
    # process that dies mid-task (SIGKILL, OOM) gives the message back instead of losing it.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # One message at a time per process: a long grading must not sit on messages that another
    # idle worker could take.
    worker_prefetch_multiplier=1,
    task_queues=[Queue(name) for name in QUEUES],  # type: ignore[no-untyped-call,unused-ignore]
    task_default_queue="interactive",
    broker_transport_options={
        # Redis re-delivers unacknowledged messages after this; it must exceed the longest job.
        "visibility_timeout": settings.visibility_timeout,
        # Poll queues in the listed order (interactive first) instead of round robin.
        "queue_order_strategy": "priority",
    },
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
)


def bound_sends(timeout: float = config.SEND_SOCKET_TIMEOUT) -> None:
    """Make this process's sends give up on a frozen broker within about three ``timeout``s.

    For processes that only send wake-ups (the web), never for a worker (see
    worker.config.SEND_SOCKET_TIMEOUT); call it before the first send, since pooled broker
    connections keep the options they were made with. A send that fails is logged by the
    caller and the sweeper sends it again (the database row is the job).
    """
    options = dict(app.conf.broker_transport_options)
    options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
    app.conf.broker_transport_options = options
    app.conf.task_publish_retry_policy = dict(config.SEND_RETRY_POLICY)


def owner_name() -> str:
    """Who holds a lease: enough to find the process in logs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue(submission_id: int, queue: str, countdown: float = 0.0) -> None:
    """Send the wake-up message for a submission (by task name: no import of the task needed)."""
    if queue not in QUEUES:
        queue = "interactive"
    options: dict[str, Any] = {"queue": queue}
    if countdown > 0:
        options["countdown"] = countdown
    app.send_task(GRADE_TASK, args=[submission_id], **options)


def send_judge0(row_id: int, countdown: float = 0.0) -> None:
    """Wake a worker for a Judge0 submission (its row is committed already)."""
    options: dict[str, Any] = {"queue": "interactive"}
    if countdown > 0:
        options["countdown"] = countdown
    app.send_task(JUDGE0_TASK, args=[row_id], **options)


def send_verify(slug: str) -> None:
    """Ask a worker to verify a problem's package (worker.tasks.verify_problem)."""
    app.send_task(VERIFY_TASK, args=[slug], queue="batch")


_sweeper: Any = None
_heartbeat: Any = None
_sender: Any = None  # worker.webhooks.Sender: the outbox


@worker_ready.connect  # type: ignore[untyped-decorator,misc,unused-ignore]
def _start_sweeper(sender: Any = None, **_: Any) -> None:
    # The main worker process survives its pool children, so the sweeper lives there.
    global _sweeper, _heartbeat
    from worker import db, metrics
    from worker.sweeper import SweeperThread

    # Pool processes are forked from this one when one dies, while these threads write.
    db.guard_forks()
    _sweeper = SweeperThread(db.sessions(), enqueue, settings, judge0_send=send_judge0)
    _sweeper.start()
    log.info("sweeper started: every %.1f s", settings.sweep_interval)
    from worker.webhooks import Sender

    global _sender
    _sender = Sender(db.sessions(), settings.webhook_allow)
    _sender.start()
    # The worker count on /metrics: one key per node, alive while this process beats.
    node = getattr(sender, "hostname", None) or owner_name()
    controller = getattr(sender, "controller", None)
    queues = sorted(q.name for q in app.amqp.queues.consume_from.values())
    info = {"concurrency": getattr(controller, "concurrency", None), "queues": queues}
    _heartbeat = metrics.Heartbeat(node, info)
    _heartbeat.begin()


@worker_shutdown.connect  # type: ignore[untyped-decorator,misc,unused-ignore]
def _stop_sweeper(**_: Any) -> None:
    if _sweeper is not None:
        _sweeper.stop()
    if _sender is not None:
        _sender.stop()
    if _heartbeat is not None:
        _heartbeat.stop()


@worker_process_shutdown.connect  # type: ignore[untyped-decorator,misc,unused-ignore]
def _end_boxes(**_: Any) -> None:
    # Pool processes end with os._exit, so atexit hooks never run there. The parser's box
    # would die with our control pipe anyway, and the prepared boxes' and idle cgroups'
    # (empty) directories would stay until some later process sweeps stale ones. The parser
    # first: the drain then also takes whatever its teardown left for reuse.
    from sandbox import _pool
    from worker import python_parser

    python_parser.shutdown()
    _pool.drain()


class _TaskContext(logging.Filter):
    """Adds ``task_id`` and ``task`` to records logged while a task runs (JSON logs show them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery import current_task

        task = current_task
        request = getattr(task, "request", None) if task else None
        if request is not None and getattr(request, "id", None):
            record.task_id = request.id
            record.task = task.name
        return True


if logs.json_enabled():
    # Connecting this signal tells Celery to leave logging to us: JSON lines, one per record.
    @setup_logging.connect  # type: ignore[untyped-decorator,misc,unused-ignore]
    def _json_logging(loglevel: Any = None, **_: Any) -> None:
        level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else loglevel
        logs.configure("worker", level or None)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_TaskContext())
