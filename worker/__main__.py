"""``python -m worker [--queues interactive,batch] [--concurrency N] [--loglevel INFO]``

Settings are validated before Celery starts: a bad ``JUDGE_*`` value is one line on stderr and
exit status 2, not a traceback from inside the worker.
"""

from __future__ import annotations

import argparse
import os
import sys

from store import env

QUEUES = ("interactive", "batch")  # the same as worker.celery_app.QUEUES (not imported yet)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m worker", description="Run a grading worker.")
    parser.add_argument("--queues", default=",".join(QUEUES), help="in priority order")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--loglevel", default=None, help="default: $JUDGE_LOG_LEVEL (INFO)")
    parser.add_argument("--hostname", default=None, help="Celery node name")
    args = parser.parse_args(argv)
    try:
        for warning in env.check(["worker"]):
            print(f"python -m worker: warning: {warning}", file=sys.stderr)
        loglevel = args.loglevel or env.choice("JUDGE_LOG_LEVEL")
        json_logs = env.choice("JUDGE_LOG_FORMAT") == "json"
    except env.ConfigError as e:
        print(f"python -m worker: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    unknown = [q for q in args.queues.split(",") if q not in QUEUES]
    if unknown or args.concurrency < 1:
        what = f"unknown queue {unknown[0]!r}" if unknown else "--concurrency must be at least 1"
        print(f"python -m worker: {what}", file=sys.stderr)
        raise SystemExit(2)
    _hold_data_lock()

    if json_logs:
        # Before Celery starts: even its start-up warnings must come out as JSON lines.
        from store import logs

        logs.configure("worker", loglevel)
        # Celery prints shutdown notices straight to sys.__stdout__, from a signal handler.
        sys.__stdout__ = logs.JsonLines(1, "worker", "celery.worker")  # type: ignore[misc,assignment]

    from worker.celery_app import app

    worker_argv = [
        "worker",
        f"--queues={args.queues}",
        f"--concurrency={args.concurrency}",
        f"--loglevel={loglevel}",
        "--pool=prefork",
        # Gossip, mingle and events are cluster chatter this judge does not use; without them
        # a worker starts faster and sends nothing but task traffic.
        "--without-gossip",
        "--without-mingle",
    ]
    if args.hostname:
        worker_argv.append(f"--hostname={args.hostname}")
    # JSON logs: no ASCII-art banner on stdout between the JSON lines.
    app.worker_main(["--quiet", *worker_argv] if json_logs else worker_argv)


def _hold_data_lock() -> None:
    """Refuse to share a SQLite data directory with a running ``judge up`` unless this is one
    of its workers (store.datalock): its own workers already use that file."""
    from store import datalock
    from store.db import data_dir, default_url

    try:
        datalock.hold_for_part(data_dir().resolve(), default_url())
    except datalock.Busy as e:
        print(f"python -m worker: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
