"""Batch grading throughput: submissions per minute for A+B in Python with 10 tests.

    python3 bench/batch_throughput.py [--size 100] [--runs 3] [--workers 2] [--language python3]

Starts its own redis-server, a fresh SQLite database and one Celery worker with ``--workers``
pool processes (``python -m worker``, the same as ``judge worker``), all in a temporary
directory, and stops them by PID at the end. Each run uploads one batch of ``--size``
submissions with ``worker.batches.create_batch`` (what ``POST /api/batches`` calls) and times it
from the upload to the last verdict in the database. A warm-up batch of a few submissions runs
first, uncounted. Prints every run and the median in submissions per minute.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TESTS = [{"input": f"{i} {i * 7 + 1}\n", "output": f"{i * 8 + 1}\n"} for i in range(10)]
PROBLEM = {"slug": "aplusb", "title": "A+B", "time_limit": 1.0, "tests": TESTS}
SOURCES = {
    "python3": "a, b = map(int, input().split())\nprint(a + b)\n",
    "c": '#include <stdio.h>\nint main(){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}',
    "cpp": '#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}',
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # Each child was started in its own session: its group id is its PID, ours alone.
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100, help="submissions per batch")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="worker pool processes")
    parser.add_argument("--language", default="python3", choices=sorted(SOURCES))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="judge-bench-"))
    port = _free_port()
    os.environ["JUDGE_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    os.environ["JUDGE_DATABASE_URL"] = f"sqlite:///{workdir / 'judge.db'}"
    os.environ["JUDGE_DATA_DIR"] = str(workdir)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        redis_bin = shutil.which("redis-server") or "/usr/bin/redis-server"
        procs.append(subprocess.Popen(
            [redis_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ))  # fmt: skip

        def redis_up() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        _wait(redis_up, 15, "redis-server")

        # Imported only now: the worker package reads the broker URL at import.
        from sqlalchemy import func, select

        import store
        from store.vocab import FINISHED
        from worker import batches

        engine = store.init_db()
        sessions = store.session_factory(engine)
        with sessions() as s:
            store.import_problem(s, PROBLEM)
            s.commit()

        log = workdir / "worker.log"
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "worker", "--queues=interactive,batch",
                 f"--concurrency={args.workers}", "--loglevel=WARNING",
                 f"--hostname=bench-{os.getpid()}@localhost"],
                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=fd, stderr=fd, start_new_session=True,
            ))  # fmt: skip
        finally:
            os.close(fd)

        def one_batch(size: int) -> float:
            source = SOURCES[args.language]
            entries = [batches.Entry(f"s{i:04}", source, args.language) for i in range(size)]
            start = time.perf_counter()
            with sessions() as s:
                batch = batches.create_batch(s, "aplusb", entries)
                sids = [i.submission_id for i in batch.items if i.submission_id is not None]

            def finished() -> bool:
                with sessions() as s:
                    n = s.scalar(
                        select(func.count())
                        .select_from(store.Submission)
                        .where(store.Submission.id.in_(sids), store.Submission.status.in_(FINISHED))
                    )
                return n == len(sids)

            _wait(finished, 60 + size * 10, f"a batch of {size}")
            elapsed = time.perf_counter() - start
            with sessions() as s:
                verdicts = set(
                    s.scalars(select(store.Submission.verdict).where(store.Submission.id.in_(sids)))
                )
            if verdicts != {store.Verdict.AC}:
                raise SystemExit(f"unexpected verdicts {verdicts}; see {log}")
            return elapsed

        one_batch(2 * args.workers)  # warm-up: worker start, imports, first compile
        rates = []
        print(f"A+B in {args.language}, {len(TESTS)} tests, batches of {args.size}, "
              f"{args.workers} worker processes, {os.cpu_count()} CPUs")  # fmt: skip
        for run in range(1, args.runs + 1):
            elapsed = one_batch(args.size)
            rate = args.size / elapsed * 60
            rates.append(rate)
            print(f"  run {run}: {args.size} in {elapsed:.1f} s = {rate:.0f} submissions/min "
                  f"({elapsed / args.size * 1000:.0f} ms each)", flush=True)  # fmt: skip
        median = statistics.median(rates)
        print(f"median: {median:.0f} submissions per minute "
              f"({60 / median * 1000:.0f} ms per submission)")  # fmt: skip
        engine.dispose()
        return 0
    finally:
        for p in reversed(procs):
            _stop(p)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
