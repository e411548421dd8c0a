"""Worker overhead: what ``worker.pipeline.grade`` itself costs per submission and per test,
with the sandbox taken out of the picture.

    python3 bench/worker_overhead.py [--tests 10] [--submissions 200] [--repeat 5]
        [--compare TREE] [--database-url URL] [--profile]

A benchmark, not a test: ``sandbox.run`` is replaced by a fake that answers at once (the
syntax check passes; a test run prints the sum of the numbers on its stdin, so every test is
AC), so that what remains is the worker's own Python and its database round trips. Everything
else is real: a fresh SQLite file migrated by ``store.init_db`` (WAL, as the judge runs it),
the problem imported by ``store.import_problem`` (A+B, the same tests as batch_throughput.py,
``--tests`` of them), submissions made by ``worker.create_submission`` for a real user (so
finishing one releases the user's next, as for web submissions), ``worker.execution``'s
runner (its metrics counting included; their Redis is a socket that does not exist, so
nothing is sent anywhere) and the pipeline's own claims, writes and checks.

Each submission is created and committed outside the timing, then graded with
``pipeline.grade``. Per round it prints the median of:

- per submission: the whole ``grade`` call;
- per test: that divided by the number of tests (what the issue's "worker Python per test"
  counts), and the per-test loop alone (the call less the fixed steps below, per test);
- the fixed steps, each timed by a wrapper around it (a microsecond or so per call): the
  claim, loading the job, each lease renewal, the syntax check (the fake sandbox call and
  the code around it), each flush of results, the finish (verdict and last results), and
  releasing the user's next submission.

``--compare TREE`` runs each round twice, alternately, in child processes: once importing
``worker`` and ``store`` from this checkout and once from TREE (another checkout, e.g. the
commit before a change: ``git archive HEAD~1 | tar -x -C /tmp/before``), so both see the same
machine noise; it prints both columns. ``--database-url`` grades on that database instead
(PostgreSQL: an empty database; it is migrated, and reused by later rounds and runs).
``--profile`` adds one cProfile'd round and prints the functions with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TREE = Path(os.environ.get("WORKER_OVERHEAD_TREE") or HERE.parent).resolve()
sys.path.insert(0, str(TREE))

#: A+B in Python, as batch_throughput.py and service_throughput.py submit it.
SOURCE = "a, b = map(int, input().split())\nprint(a + b)\n"

#: The fixed steps, in pipeline order, by the name of the function timed.
STEPS = ("claim", "load", "renew", "compile", "record_results", "finish", "release_next")


def _problem(tests: int) -> dict[str, Any]:
    rows = [{"input": f"{i} {i * 7 + 1}\n", "output": f"{i * 8 + 1}\n"} for i in range(tests)]
    return {"slug": "aplusb", "title": "A+B", "time_limit": 1.0, "tests": rows}


def _fake_run(
    cmd: list[str],
    limits: Mapping[str, Any] | None = None,
    *,
    stdin: bytes | None = None,
    files: Mapping[str, bytes] | None = None,
    executables: Iterable[str] = (),
    copy_out: Iterable[str] = (),
    binds: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> Any:
    """sandbox.run's stand-in: an A+B program (or a syntax check) that ran in no time."""
    import sandbox

    out = b"" if stdin is None else b"%d\n" % sum(int(x) for x in stdin.split())
    return sandbox.Result(
        sandbox.Verdict.OK, exit_code=0, cpu_time=0.001, wall_time=0.001,
        memory_peak=1 << 20, stdout=out,
    )  # fmt: skip


def _timed(table: dict[str, list[float]], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            table[name].append(time.perf_counter() - t)

    return wrapper


def measure(tests: int, submissions: int, profile: bool, url: str = "") -> dict[str, Any]:
    """One round in this process: ``submissions`` gradings on a fresh SQLite file, or on
    the database at ``url`` (made and migrated if need be; one problem per test count)."""
    workdir = Path(tempfile.mkdtemp(prefix="worker-overhead-"))
    # Metrics count in the process and send at most once a second: to nowhere, here.
    os.environ["JUDGE_REDIS_URL"] = f"unix://{workdir / 'no-redis.sock'}"
    os.environ["JUDGE_DATA_DIR"] = str(workdir)
    import logging

    logging.getLogger("worker.metrics").setLevel(logging.ERROR)

    import sandbox
    import store
    from store.models import User
    from worker import claims, create_submission, execution, pipeline
    from worker.config import Settings

    setattr(sandbox, "run", _fake_run)  # noqa: B010  (worker.execution calls it by attribute)
    settings = Settings(
        redis_url="unix:///nonexistent", lease_seconds=60, max_attempts=3, sweep_interval=1,
        requeue_after=600, retry_delay=1, visibility_timeout=3600,
    )  # fmt: skip
    calls: dict[str, list[float]] = defaultdict(list)
    # The pipeline calls these by module attribute (or global name) at every use.
    timed = [(claims, n, n) for n in ("claim", "renew", "record_results", "finish")] + [
        (pipeline, "_load", "load"),
        (pipeline, "_release_next", "release_next"),
        (pipeline, "compile_source", "compile"),
    ]
    for module, attr, name in timed:
        setattr(module, attr, _timed(calls, name, getattr(module, attr)))

    engine = store.init_db(url or f"sqlite:///{workdir / 'judge.db'}")
    sessions = store.session_factory(engine)
    slug = f"aplusb{tests}"
    with sessions() as s:
        from sqlalchemy import select

        if s.scalar(select(store.Problem.id).where(store.Problem.slug == slug)) is None:
            store.import_problem(s, {**_problem(tests), "slug": slug})
        user_id = s.scalar(select(User.id).where(User.name == "student"))
        if user_id is None:
            user = User(name="student")
            s.add(user)
            s.flush()
            user_id = user.id
        s.commit()

    def one(prof: cProfile.Profile | None = None) -> tuple[float, dict[str, float]]:
        with sessions() as s:
            sid = create_submission(s, slug, "python3", SOURCE, user=user_id).id
            s.commit()
        calls.clear()
        if prof is not None:
            prof.enable()
        t = time.perf_counter()
        outcome = pipeline.grade(
            sessions, sid, settings=settings, owner="bench", enqueue=lambda *a: None,
            run=execution.sandbox_runner,
        )  # fmt: skip
        took = time.perf_counter() - t
        if prof is not None:
            prof.disable()
        if outcome != "done":
            raise SystemExit(f"submission {sid}: {outcome}")
        return took, {k: sum(v) for k, v in calls.items()} | {
            f"n.{k}": float(len(v)) for k, v in calls.items()
        }

    try:
        for _ in range(min(20, submissions)):  # warm-up: caches, the pool, the statements
            one()
        totals: list[float] = []
        steps: dict[str, list[float]] = defaultdict(list)
        for _ in range(submissions):
            took, parts = one()
            totals.append(took)
            for name in STEPS:
                steps[name].append(parts.get(name, 0.0))
                steps[f"n.{name}"].append(parts.get(f"n.{name}", 0.0))
            steps["loop"].append(took - sum(parts.get(name, 0.0) for name in STEPS))
        with sessions() as s:
            from sqlalchemy import func, select

            from store import Status, Submission, TestResult

            ours = select(Submission.id).join(store.Problem).where(store.Problem.slug == slug)
            finished = Submission.id.in_(ours), Submission.status == Status.DONE
            done = s.scalar(select(func.count()).where(*finished))
            rows = s.scalar(select(func.count()).where(TestResult.submission_id.in_(ours)))
        if rows != (done or 0) * tests:
            raise SystemExit(f"{done} graded submissions but {rows} test results")
        top = ""
        if profile:
            prof = cProfile.Profile()
            for _ in range(submissions):
                one(prof)
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
            top = buf.getvalue()
        return {
            "tree": str(TREE),
            "imported": str(Path(pipeline.__file__).resolve().parent.parent),
            "total": statistics.median(totals),
            "steps": {k: statistics.median(v) for k, v in steps.items()},
            "profile": top,
        }
    finally:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def _child(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "WORKER_OVERHEAD_TREE": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")])
    argv = [sys.executable, __file__, "--one-round", f"--tests={args.tests}",
            f"--submissions={args.submissions}", f"--database-url={args.database_url}",
            *(["--profile"] if args.profile else [])]  # fmt: skip
    out = subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    result: dict[str, Any] = json.loads(out)
    if result["imported"] != str(tree):
        raise SystemExit(f"asked for {tree}, but the pipeline came from {result['imported']}")
    return result


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:8.0f} us"


def report(label: str, rounds: list[dict[str, Any]], tests: int) -> list[str]:
    """Lines of medians over rounds (each round already a median over its submissions)."""
    med = statistics.median
    total = med(r["total"] for r in rounds)
    step = {k: med(r["steps"][k] for r in rounds) for k in rounds[0]["steps"]}
    lines = [
        f"{label}",
        f"  per submission            {_us(total)}",
        f"  per test (all / {tests:>2})       {_us(total / tests)}",
        f"  per test (loop alone)     {_us(step['loop'] / tests)}",
        f"  fixed steps               {_us(sum(step[s] for s in STEPS))}",
    ]
    for name in STEPS:
        count = step.get(f"n.{name}", 0.0)
        lines.append(f"    {name:<22}  {_us(step[name])}  (x{count:g})")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=10, help="tests of the problem")
    parser.add_argument("--submissions", type=int, default=200, help="gradings per round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (medians over them)")
    parser.add_argument("--compare", type=Path, help="another checkout to run alternately")
    parser.add_argument("--profile", action="store_true", help="add a cProfile'd round")
    parser.add_argument("--database-url", default="", help="instead of a fresh SQLite file")
    parser.add_argument("--one-round", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_round:
        print(json.dumps(measure(args.tests, args.submissions, args.profile, args.database_url)))
        return 0

    trees = [TREE] + ([args.compare.resolve()] if args.compare else [])
    rounds: dict[Path, list[dict[str, Any]]] = {t: [] for t in trees}
    for i in range(args.repeat):
        for tree in trees if i % 2 == 0 else trees[::-1]:
            rounds[tree].append(_child(tree, args))
    backend = args.database_url.split(":", 1)[0] if args.database_url else "SQLite (a fresh file)"
    print(f"pipeline.grade, {args.tests} tests, fake sandbox, {backend}; medians of "
          f"{args.repeat} rounds x {args.submissions} submissions")  # fmt: skip
    for tree in trees:
        print("\n".join(report(str(tree), rounds[tree], args.tests)))
        if args.profile:
            print(rounds[tree][-1]["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
