"""Ad-hoc runs through the Judge0-compatible API, against the same runs with no service.

    python3 bench/judge0_throughput.py [--language python3|c] [--runs 200] [--workers 2]
        [--clients 4] [--repeat 3] [--quiet-below 10] [--keep]

    python3 bench/judge0_throughput.py --runs 40 --repeat 1    # smoke

Starts what ``bench/service_throughput.py`` starts (its ``Services``: redis-server, a fresh
SQLite database, one Celery worker with ``--workers`` pool processes, the web app on 127.0.0.1)
and stops it by PID at the end. Needs root (the sandbox does). Traffic stays on 127.0.0.1.

Each round measures three ways of doing ``--runs`` runs of one small program (it reads a number
and prints its double; every output is checked), back to back so that they see the same noise:

- wait: ``POST /judge0/submissions?wait=true`` from ``--clients`` threads, one run per request,
  from the first request to the last answer;
- batch: ``POST /judge0/submissions/batch`` with 20 runs each from ``--clients`` threads, then
  ``GET /judge0/submissions/batch?tokens=`` until all are done; from the first POST to the
  latest ``finished_at`` in the database (so polling granularity does not count);
- bare: the same compile-or-check plus run of each submission with ``sandbox.run`` directly
  (``worker.oneshot.run_once``, no HTTP, queue or database), in ``--workers`` processes.

It prints runs/s per way (medians over ``--repeat`` rounds), the ratios to bare, and the median
latency of a ``wait=true`` request under that load.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import queue
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from service_throughput import Services, wait_quiet  # noqa: E402

SOURCES = {
    "python3": (71, "print(2 * int(input()))\n"),
    "c": (50, '#include <stdio.h>\nint main(void) { int n; scanf("%d", &n);'
              ' printf("%d\\n", 2 * n); return 0; }\n'),
}  # fmt: skip
BATCH = 20


def _body(language: str, i: int) -> dict[str, Any]:
    lang_id, source = SOURCES[language]
    return {"language_id": lang_id, "source_code": source, "stdin": f"{i}\n",
            "expected_output": f"{2 * i}\n", "cpu_time_limit": 2}  # fmt: skip


@contextlib.contextmanager
def _http_clients(url: str, token: str, n: int) -> Iterator[queue.SimpleQueue[Any]]:
    """``n`` HTTP clients, made before the clock starts: a client keeps its connection, as
    a Judge0 client does, and making one (httpx loads its CA bundle) costs ~25 ms of CPU,
    which a client per request used to add to every run measured here."""
    import httpx

    pool: queue.SimpleQueue[Any] = queue.SimpleQueue()
    made = [httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=120)
            for _ in range(n)]  # fmt: skip
    for client in made:
        pool.put(client)
    try:
        yield pool
    finally:
        for client in made:
            client.close()


def wait_round(url: str, token: str, language: str, runs: int, clients: int) -> tuple[float, float]:
    """(runs/s, median seconds per request)."""
    latencies: list[float] = []

    with _http_clients(url, token, clients) as free:

        def one(i: int) -> None:
            h = free.get()
            try:
                t0 = time.perf_counter()
                r = h.post("/judge0/submissions", params={"wait": "true"},
                           json=_body(language, i))  # fmt: skip
                latencies.append(time.perf_counter() - t0)
            finally:
                free.put(h)
            if r.status_code != 201 or r.json()["status"]["id"] != 3:
                raise RuntimeError(f"run {i}: {r.status_code} {r.text[:300]}")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(runs)))
        took = time.perf_counter() - t0
    return runs / took, statistics.median(latencies)


def batch_round(url: str, token: str, language: str, runs: int, clients: int) -> float:
    from sqlalchemy import func, select

    import store

    def send(start: int) -> list[str]:
        items = [_body(language, i) for i in range(start, min(start + BATCH, runs))]
        h = free.get()
        try:
            r = h.post("/judge0/submissions/batch", json={"submissions": items})
            if r.status_code != 201:
                raise RuntimeError(f"batch at {start}: {r.status_code} {r.text[:300]}")
            tokens = [t["token"] for t in r.json()]
            while True:
                got = h.get(
                    "/judge0/submissions/batch",
                    params={"tokens": ",".join(tokens), "fields": "status"},
                ).json()
                ids = [s["status"]["id"] for s in got["submissions"]]
                if all(i > 2 for i in ids):
                    if ids != [3] * len(ids):
                        raise RuntimeError(f"batch at {start}: statuses {ids}")
                    return tokens
                time.sleep(0.05)
        finally:
            free.put(h)

    with _http_clients(url, token, clients) as free:
        t0 = store.utcnow()
        with ThreadPoolExecutor(clients) as pool:
            tokens = [t for part in pool.map(send, range(0, runs, BATCH)) for t in part]
    engine = store.make_engine()
    with engine.connect() as c:
        last = c.execute(
            select(func.max(store.Judge0Submission.finished_at))
            .where(store.Judge0Submission.token.in_(tokens))
        ).scalar_one()  # fmt: skip
    engine.dispose()
    last = store.types.UTCDateTime().process_result_value(last, engine.dialect)
    assert last is not None
    return runs / (last - t0).total_seconds()


def _bare(args: tuple[str, int]) -> None:
    from worker.oneshot import run_once

    language, i = args
    shot = run_once(language, SOURCES[language][1], f"{i}\n", {"cpu_time": 2})
    if shot.result is None or shot.result.stdout != f"{2 * i}\n".encode():
        raise RuntimeError(f"bare run {i}: {shot}")


def bare_round(language: str, runs: int, workers: int) -> float:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        pool.map(_bare, [(language, i) for i in range(min(workers * 2, runs))])  # warm boxes
        t0 = time.perf_counter()
        pool.map(_bare, [(language, i) for i in range(runs)], chunksize=1)
        return runs / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--language", choices=sorted(SOURCES), default="python3")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quiet-below", type=float, default=10.0)
    p.add_argument("--keep", action="store_true")
    a = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="judge0-bench-"))
    services = Services(workdir, a.workers, None, max_queued=a.runs * 4, user_share=0)
    ok = False
    rows: dict[str, list[float]] = {"wait": [], "batch": [], "bare": [], "latency": []}
    try:
        services.start()
        # The first request also asks every toolchain its version; not part of any round.
        import httpx

        httpx.get(f"{services.url}/judge0/languages", headers={"X-Auth-Token": services.token},
                  timeout=120).raise_for_status()  # fmt: skip
        wait_round(services.url, services.token, a.language, 4, 2)  # warm the worker's boxes
        for n in range(a.repeat):
            if a.quiet_below > 0:
                wait_quiet(a.quiet_below)
            rate, latency = wait_round(services.url, services.token, a.language, a.runs, a.clients)
            rows["wait"].append(rate)
            rows["latency"].append(latency)
            rows["batch"].append(batch_round(services.url, services.token, a.language, a.runs,
                                             a.clients))  # fmt: skip
            services.alive()
            rows["bare"].append(bare_round(a.language, a.runs, a.workers))
            print(f"round {n + 1}: wait {rows['wait'][-1]:.1f}/s, batch {rows['batch'][-1]:.1f}/s,"
                  f" bare {rows['bare'][-1]:.1f}/s", flush=True)  # fmt: skip
        ok = True
    finally:
        services.stop()
        if ok and not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs and database kept in {workdir}")
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\n{a.runs} runs of a {a.language} program per way, {a.workers} worker processes, "
          f"{a.clients} clients, medians of {a.repeat} rounds:")  # fmt: skip
    print(f"  /judge0/submissions?wait=true  {med['wait']:7.1f} runs/s  "
          f"(ratio to bare {med['wait'] / med['bare']:.2f}; {med['latency'] * 1000:.0f} ms per "
          f"request with {a.clients} in flight)")  # fmt: skip
    print(f"  /judge0/submissions/batch      {med['batch']:7.1f} runs/s  "
          f"(ratio to bare {med['batch'] / med['bare']:.2f})")  # fmt: skip
    print(f"  sandbox.run directly (bare)    {med['bare']:7.1f} runs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
