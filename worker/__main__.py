"""``python -m worker [--queues interactive,batch] [--concurrency N] [--loglevel INFO]``"""

from __future__ import annotations

import argparse
import os

from worker.celery_app import QUEUES, app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m worker", description="Run a grading worker.")
    parser.add_argument("--queues", default=",".join(QUEUES), help="in priority order")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--hostname", default=None, help="Celery node name")
    args = parser.parse_args(argv)
    worker_argv = [
        "worker",
        f"--queues={args.queues}",
        f"--concurrency={args.concurrency}",
        f"--loglevel={args.loglevel}",
        "--pool=prefork",
        # Gossip, mingle and events are cluster chatter this judge does not use; without them
        # a worker starts faster and sends nothing but task traffic.
        "--without-gossip",
        "--without-mingle",
    ]
    if args.hostname:
        worker_argv.append(f"--hostname={args.hostname}")
    app.worker_main(worker_argv)


if __name__ == "__main__":
    main()
