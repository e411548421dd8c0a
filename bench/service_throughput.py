"""Service throughput: A+B through the whole judge (HTTP, queue, worker, sandbox, database),
against the bare limit of the same program runs without a sandbox or a service.

    python3 bench/service_throughput.py [--language python3|c] [--submissions 200] [--workers 2]
        [--clients 4] [--repeat 3] [--latency-samples 20] [--latency-gap 0.5]
        [--quiet-below 10] [--profile [FILE]] [--null-sandbox] [--keep]

    python3 bench/service_throughput.py --submissions 20 --repeat 1 --latency-samples 5   # smoke

Starts its own redis-server, a fresh SQLite database, one Celery worker with ``--workers`` pool
processes (``python -m worker``, what ``judge worker`` runs) and the web app (``judge web``:
uvicorn on 127.0.0.1, a free port) in a temporary directory, makes an admin API token, creates
the problem with ``POST /api/problems``, and stops everything by PID at the end, on Ctrl-C and on
failure too. Needs root (the sandbox does). Sends traffic to 127.0.0.1 only.

Each round has two halves, run back to back so that both see the same machine noise:

- service: ``--submissions`` individual ``POST /api/submissions`` from ``--clients`` threads (as
  students would send them), timed from the first POST until the last verdict is final (the
  latest ``finished_at`` in the database, so polling granularity does not count). Every verdict
  is then read back with ``GET /api/submissions/{id}`` and must be AC with every test run.
- bare: the same program runs (submissions x 10 tests, same source, same inputs) with
  ``subprocess.run`` and no isolation, ``--workers`` processes in parallel (as many as the
  worker's pool), each output compared by the judge's own tokens checker. For C the source is
  compiled once with the judge's gcc command line, outside the timing; a second bare round
  then compiles each submission in a directory of its own before its runs, as the service
  does, for the ratio with compiles counted on both sides.

The ratio is service test runs/s over bare runs/s: the fraction of the machine's bare program
throughput that reaches students as verdicts (goal >= 0.80). "Sandbox runs/s" also counts the
compile or syntax-check run of each submission, as the worker's own metrics count them.

Then latency: ``--latency-samples`` submissions one at a time on the idle service, from the POST
to ``finished_at``, split into POST, queue wait (to the worker's claim) and grading.

Where the CPU went during the service rounds, per submission, from /proc and the cgroups: web,
Celery main process, pool processes, the boxes (the worker's boxes get a parent cgroup of their
own through SANDBOX_CGROUP_PARENT, removed at the end), the test programs in them, Redis, this
script, kernel threads, and the rest (other tenants: the "others' load" printed as noise).

``--profile`` starts the worker through a shim (this file with ``--timed-worker``) that times
the grading phases inside each pool process (a few microseconds per call) and prints where a
pool process's wall time goes per submission: the program itself vs the rest of each sandbox
run, compile step, checker, each database step, metrics, Celery. With py-spy installed it also
records one extra, uncounted round with ``py-spy record --idle --threads`` attached to each pool
process (not ``--subprocesses``: that would attach to the boxed programs too), keeps the
collapsed stacks in FILE (default ``service_profile.txt``) and prints the same split by samples.

``--null-sandbox`` measures the ceiling: the same service with ``sandbox.run`` replaced in the
worker by bench/null_sandbox.py, which runs each program unisolated in a temporary directory.
Every other part (HTTP, queue, database, checker, Celery) is the real one, so the ratio it
reaches is the most any sandbox could give, and the difference to a normal run is what the
sandbox costs. Never a judge: nothing is confined.

All figures are medians over ``--repeat`` rounds: the machine is shared and noisy. Before each
half of a round (and the latency and profile parts) it waits, up to 2 minutes, until the machine
is busy below ``--quiet-below`` percent of its cores.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import json
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The same problem, sources and process handling as the batch benchmark, so the two compare.
from batch_throughput import PROBLEM, SOURCES, TESTS, _free_port, _stop  # noqa: E402

SLUG = str(PROBLEM["slug"])
_PR_SET_PDEATHSIG = 1
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_V1_CPUACCT = "/sys/fs/cgroup/cpuacct"
_V2_ROOT = "/sys/fs/cgroup"
# What the sandbox's run box gets: no host environment leaks into the bare runs either.
_BARE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


# ---------------------------------------------------------------------------------------------
# Processes: ours alone, each in its own session, stopped by PID.


def _die_with_parent() -> None:
    # Between fork and exec: even if this script is SIGKILLed, the kernel stops its services.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        return subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,  # a terminal's Ctrl-C reaches only us; we stop them in order
            preexec_fn=_die_with_parent,
        )
    finally:
        os.close(fd)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(
    check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start; see {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}; see {log}")
        time.sleep(0.05)


def _says(log: Path, text: str) -> bool:
    return text in _tail(log)


def _tail(log: Path, n: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-n:]
    except OSError:
        return ""


class Services:
    """redis-server, a fresh SQLite database, one Celery worker and the web app, in ``workdir``."""

    def __init__(
        self, workdir: Path, workers: int, timers: Path | None, max_queued: int, user_share: int,
        null_sandbox: bool = False,
    ) -> None:  # fmt: skip
        self.workdir = workdir
        self.workers = workers
        self.timers = timers  # where the timing shim writes, or None for the plain worker
        self.null_sandbox = null_sandbox  # programs run by bench/null_sandbox.py, unisolated
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.redis_port = _free_port()
        self.web_port = _free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.token = ""
        self.cgroup_parent = f"pysandbox-bench-{os.getpid()}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "JUDGE_DATA_DIR": str(workdir),
            "JUDGE_DATABASE_URL": f"sqlite:///{workdir / 'judge.db'}",
            "JUDGE_REDIS_URL": self.redis_url,
            "JUDGE_SECRET_KEY": secrets.token_urlsafe(16),
            # One user sends every submission: the per-user limit (30/min) would be the result.
            "JUDGE_RATE_LIMIT": "1000000",
            "JUDGE_MAX_QUEUED": str(max_queued),
            "JUDGE_MAX_UNFINISHED": str(max_queued),
            # One user's submissions in the broker at once (0: one per CPU, the judge's
            # default); the others wait in the database for a worker's finish to send them.
            "JUDGE_USER_SHARE": str(user_share),
            # The worker's boxes under a parent cgroup of their own: their CPU can be counted.
            "SANDBOX_CGROUP_PARENT": self.cgroup_parent,
        }
        # This process imports store and worker too; the worker package reads these at import.
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("JUDGE_")})

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def start(self) -> None:
        redis_bin = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.procs["redis"] = _spawn(
            [redis_bin, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            self.env, self.log("redis"),
        )  # fmt: skip
        _wait_for(lambda: _port_open(self.redis_port), 15, "redis-server", self.procs["redis"],
                  self.log("redis"))  # fmt: skip

        import store

        engine = store.init_db()  # migrates the fresh file
        with store.session_factory(engine)() as s:
            self.token = store.create_token(s, "bench", admin=True)
            s.commit()
        engine.dispose()

        worker_args = ["--queues=interactive,batch", f"--concurrency={self.workers}",
                       f"--hostname=service-bench-{os.getpid()}@localhost"]  # fmt: skip
        env = self.env
        if self.timers is None and not self.null_sandbox:
            argv = [sys.executable, "-m", "worker", *worker_args]
        else:
            argv = [sys.executable, str(Path(__file__).resolve()), "--timed-worker",
                    str(self.timers or "-"), *worker_args]  # fmt: skip
            env = {**env, _NULL_SANDBOX_ENV: "1" if self.null_sandbox else ""}
        self.procs["worker"] = _spawn(argv, env, self.log("worker"))

        web = [sys.executable, "-m", "web.cli", "web", "--host", "127.0.0.1",
               "--port", str(self.web_port)]  # fmt: skip
        self.procs["web"] = _spawn(web, self.env, self.log("web"))
        _wait_for(lambda: _port_open(self.web_port), 30, "the web server", self.procs["web"],
                  self.log("web"))  # fmt: skip

    def alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} died; see {self.log(name)}:\n{_tail(self.log(name))}")

    def stop(self) -> None:
        # Web first (no new work), then the worker, Redis last: the order `judge up` uses.
        for name in ("web", "worker", "redis"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                _stop(proc)
        _remove_cgroup_parent(self.cgroup_parent)


# ---------------------------------------------------------------------------------------------
# CPU accounting: where the cores went during a round, from /proc.


def _proc_cpu(pid: int, reaped_children: bool = False) -> float:
    """CPU seconds (user + system) of one process, its own threads only, or with
    ``reaped_children`` those of the children it has waited for; 0 if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    at = 13 if reaped_children else 11  # cutime, cstime or utime, stime
    return (int(fields[at]) + int(fields[at + 1])) / _CLK_TCK


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def _boxes_cpu(parent: str) -> float:
    """CPU seconds of every box under our parent cgroup so far, the removed ones included.

    The worker's boxes live under a parent cgroup named for this run (SANDBOX_CGROUP_PARENT), so
    this counts exactly its compilers, programs and in-box helpers, and nobody else's boxes.
    """
    with contextlib.suppress(OSError):  # cgroup v1: a parent's count includes its children's
        return int(Path(_V1_CPUACCT, parent, "cpuacct.usage").read_text()) / 1e9
    with contextlib.suppress(OSError, KeyError, ValueError):  # cgroup v2, at the mount's root
        text = Path(_V2_ROOT, parent, "cpu.stat").read_text()
        return int(dict(line.split(maxsplit=1) for line in text.splitlines())["usage_usec"]) / 1e6
    return 0.0


def _remove_cgroup_parent(parent: str) -> None:
    """Remove our run's parent cgroup (and box cgroups left empty in it) wherever it exists.

    Only rmdir, which the kernel refuses for a cgroup that still has tasks; the name is this
    run's own, so nothing else lives there.
    """
    roots = [Path(_V2_ROOT)] + [p for p in Path(_V2_ROOT).iterdir() if p.is_dir()]
    tops = [root / parent for root in roots if (root / parent).is_dir()]
    deadline = time.monotonic() + 5  # boxes of the stopped worker may still be exiting
    while tops:
        for top in tops:
            for box in (d for d in top.iterdir() if d.is_dir()):
                with contextlib.suppress(OSError):
                    box.rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()
        tops = [top for top in tops if top.exists()]
        if tops and time.monotonic() > deadline:
            print(f"note: could not remove the cgroups {[str(t) for t in tops]}", file=sys.stderr)
            return
        time.sleep(0.1)


def _kernel_threads_cpu() -> float:
    """CPU seconds of the kernel's threads (children of kthreadd). Not only noise: kworkers,
    expedited RCU grace periods and softirqs do much of a box's teardown (namespaces, cgroups)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[1] == "2" or d.name == "2":  # ppid
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
    return total


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine (every core, every tenant) since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / _CLK_TCK


def _load(seconds: float = 1.0) -> float:
    """The machine's busy share of all cores over the next ``seconds``."""
    before = _machine_busy()
    time.sleep(seconds)
    return (_machine_busy() - before) / (seconds * (os.cpu_count() or 1))


def wait_quiet(limit: float, patience: float = 120.0) -> tuple[float, float]:
    """Wait until the machine (our services idle) is busy below ``limit`` (a share of all cores),
    for at most ``patience`` seconds: (seconds waited, the last load seen).

    The machine is shared: a neighbour's test suite in one half of a round and not in the other
    would make that round's ratio meaningless.
    """
    start = time.monotonic()
    while True:
        load = _load()
        waited = time.monotonic() - start - 1.0
        if limit <= 0 or load <= limit or waited >= patience:
            return waited, load


def _cpu_snapshot(services: Services) -> dict[str, float]:
    worker = services.procs["worker"].pid
    pool = _children(worker)
    times = os.times()
    if services.null_sandbox:
        boxes = ("sandbox boxes (null sandbox: the pool's own children)",
                 sum(_proc_cpu(p, reaped_children=True) for p in pool))
    else:
        boxes = ("sandbox boxes (all processes in them)", _boxes_cpu(services.cgroup_parent))
    return {
        "web (HTTP, API)": _proc_cpu(services.procs["web"].pid),
        "worker main (Celery consumer)": _proc_cpu(worker),
        "worker pool (grading, sandbox orchestration)": sum(_proc_cpu(p) for p in pool),
        boxes[0]: boxes[1],
        "redis": _proc_cpu(services.procs["redis"].pid),
        "bench client (HTTP clients, polling)": times.user + times.system,
        "kernel threads (kworkers, RCU, softirq, writeback)": _kernel_threads_cpu(),
        "machine": _machine_busy(),
    }


# ---------------------------------------------------------------------------------------------
# One service round: N submissions through HTTP, until every verdict is final.


@dataclass
class ServiceRound:
    n: int
    t0: float  # wall clock of the first POST
    t_end: float  # latest finished_at
    posted: float  # seconds until the last POST was answered
    post_ms: float  # median POST round trip
    sandbox_runs: int  # counted by the worker itself (metrics in Redis)
    cpu: dict[str, float]  # CPU seconds by process group (see _cpu_snapshot)
    ids: list[int]
    test_cpu: float = 0.0  # CPU seconds of the programs, summed over every test

    @property
    def elapsed(self) -> float:
        return self.t_end - self.t0

    @property
    def others(self) -> float:
        """Busy CPU seconds of the machine that none of our processes used."""
        return self.cpu["machine"] - sum(v for k, v in self.cpu.items() if k != "machine")

    def others_share(self) -> float:
        return max(0.0, self.others / ((os.cpu_count() or 1) * self.elapsed))


class Client:
    """HTTP clients (one per thread, keep-alive) and a read-only view of the database."""

    def __init__(self, services: Services, threads: int, language: str) -> None:
        import httpx
        import redis

        import store
        from worker import metrics

        self.services = services
        self.body = {"problem": SLUG, "language": language, "source": SOURCES[language]}
        headers = {"Authorization": f"Bearer {services.token}"}
        self.http = [
            httpx.Client(base_url=services.url, headers=headers, timeout=120)
            for _ in range(threads)
        ]
        self.engine = store.init_db()
        self.sessions = store.session_factory(self.engine)
        self.redis = redis.Redis.from_url(services.redis_url)
        self.metrics_key = metrics.KEY + "sandbox_run"

    def close(self) -> None:
        for c in self.http:
            c.close()
        self.redis.close()
        self.engine.dispose()

    def create_problem(self) -> None:
        r = self.http[0].post("/api/problems", json=PROBLEM)
        if r.status_code >= 300:
            raise RuntimeError(f"POST /api/problems: {r.status_code} {r.text}")

    def sandbox_runs(self) -> int:
        """The worker's own count of sandbox runs so far, once it has settled.

        The worker may send a grading's run counts with its verdict, a moment after the verdict
        is in the database, so wait until the count stops changing (outside any timing).
        """
        last, deadline = -1, time.monotonic() + 5
        while True:
            raw = self.redis.hget(self.metrics_key, "count")
            count = int(raw) if raw else 0  # type: ignore[arg-type]
            if count == last or time.monotonic() > deadline:
                return count
            last = count
            time.sleep(0.3)

    def post(self, k: int = 0) -> int:
        r = self.http[k].post("/api/submissions", json=self.body)
        if r.status_code != 202:
            raise RuntimeError(f"POST /api/submissions: {r.status_code} {r.text[:300]}")
        sid: int = r.json()["id"]
        return sid

    def submit_all(self, n: int) -> tuple[list[int], float, float, list[float]]:
        """POST n submissions from all threads: (ids, first POST, last answer, each POST's s)."""
        threads = len(self.http)

        def work(k: int) -> tuple[list[int], list[float]]:
            ids, took = [], []
            for _ in range(k, n, threads):
                t = time.perf_counter()
                ids.append(self.post(k))
                took.append(time.perf_counter() - t)
            return ids, took

        t0 = time.time()
        with ThreadPoolExecutor(threads) as ex:
            parts = list(ex.map(work, range(threads)))
        t_posted = time.time()
        ids = sorted(i for p in parts for i in p[0])
        return ids, t0, t_posted, [x for p in parts for x in p[1]]

    def finished(self, ids: Sequence[int], timeout: float) -> float:
        """Wait until every submission is final; the latest finished_at (epoch seconds).

        Polls the database, not the API: one COUNT every 0.1 s costs the measured services
        nothing, and the end time comes from the rows, not from when the poll noticed.
        """
        from sqlalchemy import func, select

        from store import Submission
        from store.vocab import FINISHED

        deadline = time.monotonic() + timeout
        where = (Submission.id.in_(ids), Submission.status.in_(FINISHED))
        while True:
            with self.sessions() as s:
                done = s.scalar(select(func.count()).select_from(Submission).where(*where))
                if done == len(ids):
                    end = s.scalar(select(func.max(Submission.finished_at)).where(*where))
                    assert end is not None
                    return end.timestamp()
            self.services.alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{done} of {len(ids)} submissions final after {timeout:.0f} s")
            time.sleep(0.1 if len(ids) > 1 else 0.005)

    def verify(self, ids: Sequence[int]) -> float:
        """Read every verdict back through the API: all AC, every test run. Programs' CPU s."""
        threads = len(self.http)

        def work(k: int) -> float:
            cpu = 0.0
            for sid in ids[k::threads]:
                r = self.http[k].get(f"/api/submissions/{sid}")
                r.raise_for_status()
                sub = r.json()
                tests = sub["tests"]
                if sub["verdict"] != "AC" or len(tests) != len(TESTS):
                    raise RuntimeError(
                        f"submission {sid}: {sub['status']} {sub['verdict']} "
                        f"{len(tests)} tests: {sub.get('message') or sub.get('compile_output')}; "
                        f"see {self.services.log('worker')}"
                    )
                cpu += sum(t["cpu_time"] or 0.0 for t in tests)
            return cpu

        with ThreadPoolExecutor(threads) as ex:
            return sum(ex.map(work, range(threads)))

    def service_round(self, n: int, *, verify: bool = True) -> ServiceRound:
        """N submissions until every verdict is final; then (unless told not to) read back."""
        runs_before = self.sandbox_runs()
        cpu_before = _cpu_snapshot(self.services)
        ids, t0, t_posted, took = self.submit_all(n)
        t_end = self.finished(ids, 120 + 10 * n)
        cpu_after = _cpu_snapshot(self.services)
        runs = self.sandbox_runs() - runs_before
        cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
        r = ServiceRound(n, t0, t_end, t_posted - t0, statistics.median(took) * 1000, runs, cpu,
                         ids)  # fmt: skip
        if verify:
            r.test_cpu = self.verify(ids)
        return r

    def latency(self, samples: int, gap: float) -> list[tuple[float, float, float, float]]:
        """One submission at a time: (total, POST, queue wait, grading) seconds for each."""
        from store import Submission

        out = []
        for _ in range(samples):
            time.sleep(gap)  # a student's pace: the service is idle between submissions
            t0 = time.time()
            sid = self.post()
            t_posted = time.time()
            t_end = self.finished([sid], 120)
            self.verify([sid])
            with self.sessions() as s:
                sub = s.get(Submission, sid)
                assert sub is not None and sub.started_at is not None
                started = sub.started_at.timestamp()
            out.append((t_end - t0, t_posted - t0, started - t_posted, t_end - started))
        return out


# ---------------------------------------------------------------------------------------------
# The bare limit: the same runs with subprocess.run, no sandbox, no service.

_bare: dict[str, Any] = {}  # set before the pool forks: argv, cwd, checker


def _bare_init() -> None:
    # Forked from this script: undo its SIGTERM handler (the pool's terminate() is a SIGTERM),
    # and leave Ctrl-C to the parent, which then terminates the pool.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _bare_submission(_: int) -> tuple[int, float, float]:
    """One submission's worth of runs, like a worker's task: run every test, check it.

    Returns the outputs found right, the CPU seconds the programs used and this process's own.
    """
    return _bare_tests(_bare["cwd"])


def _bare_compiled_submission(_: int) -> tuple[int, float, float]:
    """The same, compiling the source first in a directory of its own, as the service does
    for every submission of a compiled language (the compiler's CPU counts as the programs')."""
    with tempfile.TemporaryDirectory(dir=_bare["cwd"].parent) as tmp:
        cwd = Path(tmp)
        shutil.copy(_bare["cwd"] / _bare["source"], cwd / _bare["source"])
        before = os.times()
        subprocess.run(_bare["compile"], cwd=cwd, env=_BARE_ENV, check=True)
        after = os.times()
        compiler = after.children_user + after.children_system
        compiler -= before.children_user + before.children_system
        ok, programs, own = _bare_tests(cwd)
        return ok, programs + compiler, own


def _bare_tests(cwd: Path) -> tuple[int, float, float]:
    from store.vocab import Verdict

    ok = 0
    before = os.times()
    for t in TESTS:
        r = subprocess.run(_bare["argv"], input=t["input"].encode(), capture_output=True,
                           cwd=cwd, env=_BARE_ENV, check=False)  # fmt: skip
        if r.returncode == 0:
            verdict = _bare["check"](t["input"].encode(), r.stdout, t["output"].encode()).verdict
            ok += verdict is Verdict.AC
    after = os.times()
    programs = after.children_user + after.children_system
    programs -= before.children_user + before.children_system
    return ok, programs, after.user + after.system - before.user - before.system


def prepare_bare(workdir: Path, language: str) -> float:
    """Write (and for C, compile) the program as the worker would; one compile's seconds."""
    from worker import checkers, languages

    lang = languages.get(language)
    cwd = workdir / "bare"
    cwd.mkdir()
    (cwd / lang.source).write_text(SOURCES[language])
    took = 0.0
    if lang.compile is not None and lang.artifacts:  # Python's syntax check has no artifact
        times = []
        for _ in range(5):  # the median of a few: the first one also warms the page cache
            t = time.perf_counter()
            subprocess.run(list(lang.compile), cwd=cwd, env=_BARE_ENV, check=True)
            times.append(time.perf_counter() - t)
        took = statistics.median(times)
    # The problem has no "checker" entry: the judge's default, tokens.
    _bare.update(
        argv=lang.run_command(256 << 20), cwd=cwd, check=checkers.builtin({"type": "tokens"}),
        source=lang.source, compile=list(lang.compile or ()) if lang.artifacts else [],
    )
    return took


def bare_round(n: int, workers: int, compiling: bool = False) -> tuple[float, float, float]:
    """(seconds, programs' CPU seconds, others' load) for n x 10 runs on ``workers`` processes;
    with ``compiling``, each submission compiles its source first.

    Others' load is the share of all cores busy with anything but these runs. The pool is
    forked for each round, so no idle process sits next to the service rounds.
    """
    one = _bare_compiled_submission if compiling else _bare_submission
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_bare_init) as pool:
        pool.map(one, range(workers), chunksize=1)  # warm: forked, imports done
        t = time.perf_counter()
        busy = _machine_busy()
        ours = os.times()
        # One task per submission, handed out as processes free up: the queue's discipline.
        results = list(pool.imap_unordered(one, range(n), chunksize=1))
        took = time.perf_counter() - t
        busy = _machine_busy() - busy
        mine = os.times()
        busy -= mine.user + mine.system - ours.user - ours.system
    ok = sum(r[0] for r in results)
    if ok != n * len(TESTS):
        raise RuntimeError(f"bare runs: only {ok} of {n * len(TESTS)} outputs were right")
    programs = sum(r[1] for r in results)
    busy -= programs + sum(r[2] for r in results)
    return took, programs, max(0.0, busy) / ((os.cpu_count() or 1) * took)


# ---------------------------------------------------------------------------------------------
# Profiling: phase timers inside the worker's pool processes, and py-spy.


_NULL_SANDBOX_ENV = "BENCH_NULL_SANDBOX"  # tells the worker shim to run without a sandbox


def _timed_worker(outdir: Path | None, argv: list[str]) -> None:
    """Run ``python -m worker`` with the grading phases timed (prefork children inherit it),
    and with ``sandbox.run`` replaced by bench/null_sandbox.py if the environment says so.

    Each pool process appends one JSON line per task to ``outdir/timers-<pid>.jsonl``: the
    task's wall-clock start and end and the seconds spent in each phase.
    """
    from celery.signals import task_postrun, task_prerun  # type: ignore[import-untyped,unused-ignore]

    import sandbox
    from worker import claims, execution, metrics, pipeline, tasks
    from worker.__main__ import main as worker_main

    if os.environ.get(_NULL_SANDBOX_ENV) == "1":
        import null_sandbox

        setattr(sandbox, "run", null_sandbox.run)  # noqa: B010  (execution looks it up per call)
    if outdir is None:
        worker_main(argv)
        return

    phases: dict[str, float] = defaultdict(float)
    where = ["test"]  # which kind of sandbox run is in progress: "compile" or "test"
    begun = [0.0, 0.0]  # wall clock and perf_counter at task start

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - t

        return wrapper

    def patch(owner: Any, attr: str, name: str) -> None:
        setattr(owner, attr, timed(name, getattr(owner, attr)))

    run = sandbox.run

    def sandbox_run(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        r = run(*args, **kwargs)
        # The Result's wall time is the program's own (from its exec to its exit); the rest of
        # the call is the sandbox's setup, waiting and teardown.
        phases[f"sbx.{where[0]}"] += time.perf_counter() - t
        phases[f"sbx.{where[0]}.prog"] += r.wall_time
        phases[f"n.{where[0]}"] += 1
        return r

    compile_source = timed("compile", execution.compile_source)  # what pipeline imported

    def compiling(*args: Any, **kwargs: Any) -> Any:
        where[0] = "compile"
        try:
            return compile_source(*args, **kwargs)
        finally:
            where[0] = "test"

    checker = pipeline._Grading._checker

    def timed_checker(self: Any) -> Any:
        return timed("checker", checker(self))

    # worker.execution calls sandbox.run, and the pipeline calls these, by attribute lookup.
    setattr(sandbox, "run", sandbox_run)  # noqa: B010
    setattr(pipeline, "compile_source", compiling)  # noqa: B010
    setattr(pipeline._Grading, "_checker", timed_checker)  # noqa: B010
    patch(pipeline, "run_program", "run_program")
    patch(pipeline, "_load", "db.load")
    for fn in ("claim", "renew", "record_results", "finish"):
        patch(claims, fn, f"db.{fn}")
    patch(metrics, "sandbox_run", "metrics.run")
    patch(metrics, "graded", "metrics.graded")
    patch(tasks, "grade", "grade")

    def begin(**_: Any) -> None:
        phases.clear()
        begun[:] = [time.time(), time.perf_counter()]

    def end(**_: Any) -> None:
        took = time.perf_counter() - begun[1]
        line = {"start": begun[0], "end": begun[0] + took, "task": took, "phases": phases}
        with open(outdir / f"timers-{os.getpid()}.jsonl", "a") as f:
            f.write(json.dumps(line) + "\n")

    # Strong references: these closures live only as long as the signal holds them.
    task_prerun.connect(begin, weak=False)
    task_postrun.connect(end, weak=False)
    worker_main(argv)


def _tasks_in(timers: Path, t0: float, t1: float) -> list[dict[str, Any]]:
    out = []
    for path in timers.glob("timers-*.jsonl"):
        for line in path.read_text().splitlines():
            task = json.loads(line)
            if t0 <= task["start"] <= t1:
                out.append(task)
    return out


def timer_breakdown(
    timers: Path, rounds: Sequence[ServiceRound], workers: int
) -> list[tuple[str, float]]:
    """Seconds of pool-process wall time by phase, summed over ``rounds`` (exclusive phases)."""
    p: Counter[str] = Counter()
    wall = 0.0
    for r in rounds:
        tasks = _tasks_in(timers, r.t0, r.t_end)
        # A pool process is busy from the first POST until its last task has returned.
        wall += workers * (max([r.t_end] + [t["end"] for t in tasks]) - r.t0)
        for t in tasks:
            p.update(t["phases"])
            p["task"] += t["task"]
    db = sum(p[f"db.{f}"] for f in ("claim", "load", "renew", "record_results", "finish"))
    runs = p["run_program"] + p["compile"]
    grade_parts = runs + p["checker"] + db
    rows = [
        ("sandbox, test runs: the program itself", p["sbx.test.prog"]),
        ("sandbox, test runs: setup, waiting, teardown", p["sbx.test"] - p["sbx.test.prog"]),
        ("compile/syntax check: the compiler itself", p["sbx.compile.prog"]),
        ("compile/syntax check: sandbox overhead", p["sbx.compile"] - p["sbx.compile.prog"]),
        ("checker", p["checker"]),
        ("database: claim", p["db.claim"]),
        ("database: load the job", p["db.load"]),
        ("database: renew lease (before the tests, a long compile)", p["db.renew"]),
        ("database: write test results", p["db.record_results"]),
        ("database: finish (verdict, last results)", p["db.finish"]),
        ("metrics to Redis (per run, per verdict)", p["metrics.run"] + p["metrics.graded"]),
        ("worker code around runs", runs - p["sbx.test"] - p["sbx.compile"] - p["metrics.run"]),
        ("other grading code (pipeline)", p["grade"] - grade_parts),
        ("Celery task wrapper, logging", p["task"] - p["grade"] - p["metrics.graded"]),
        ("outside tasks: Celery dispatch/ack, idle", wall - p["task"]),
    ]
    return rows


def _classify(frames: list[str]) -> str:
    """The phase of one sampled stack of a pool process (outermost frame first)."""

    def has(*needles: str) -> bool:
        return any(n in f for f in frames for n in needles)

    if has("sandbox/", "(sandbox"):
        if has("compile_source", "compiling ("):
            return "compile/syntax check (in the sandbox)"
        if has("_watch.py"):
            return "sandbox: waiting for the program (watch)"
        return "sandbox: setup and teardown"
    if has("checkers.py"):
        return "checker"
    if has("metrics.py"):
        return "metrics to Redis"
    if has("claims.py", "_load (pipeline"):
        return "database"
    if has("pipeline.py", "execution.py"):
        return "other grading code"
    if has("trace_task"):
        return "Celery task wrapper, logging"
    if has("workloop") and has("_recv", "recv_bytes", "get_payload"):
        return "Celery: waiting for the next task"
    return "Celery: other work between tasks"


def spy_breakdown(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Samples per phase from py-spy's raw output (``--threads``: collapsed stacks by thread).

    Returns the pool processes' main threads (where Celery runs the task: their samples are
    the wall time) and their other threads (the sandbox builds and reaps boxes in one) apart.
    """
    stacks: dict[str, list[tuple[list[str], int]]] = defaultdict(list)
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = stack.split(";")
            stacks[";".join(frames[:2])].append((frames[2:], int(count)))  # by process, thread
    main: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for samples in stacks.values():
        if any("workloop" in f for frames, _ in samples for f in frames):
            for frames, n in samples:
                main[_classify(frames)] += n
            continue
        for frames, n in samples:
            # Blocked on its queue, a thread's last Python frame is its loop (the wait is in C).
            leaf = frames[-1] if frames else ""
            waiting = len(frames) <= 2 or any(w in leaf for w in ("wait", "get (", "_work ("))
            other["waiting" if waiting else "working"] += n
    return main, other


@contextlib.contextmanager
def py_spy(pids: list[int], out: Path, logdir: Path) -> Iterator[None]:
    """Sample these pool processes (wall time: idle stacks too) while the block runs.

    One py-spy per pool process, without --subprocesses: that would also attach to (and, by
    default, pause) the programs in the boxes, which are children of the pool. The stacks of
    all of them are merged into ``out``, each line starting with its pool process.
    """
    spy = shutil.which("py-spy")
    assert spy is not None
    procs: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for pid in pids:
            argv = [spy, "record", "--pid", str(pid), "--idle", "--threads", "--rate", "100",
                    "--format", "raw", "--output", str(logdir / f"py-spy-{pid}.txt")]  # fmt: skip
            procs[pid] = _spawn(argv, dict(os.environ), logdir / f"py-spy-{pid}.log")
        for pid, proc in procs.items():
            log = logdir / f"py-spy-{pid}.log"
            _wait_for(functools.partial(_says, log, "Sampling"), 20, "py-spy", proc, log)
        yield
    finally:
        # SIGINT is py-spy's Ctrl-C: it stops sampling and writes its file.
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                _stop(proc)
    with open(out, "w") as f:
        for pid in procs:
            for line in (logdir / f"py-spy-{pid}.txt").read_text(errors="replace").splitlines():
                f.write(f"pool process {pid};{line}\n")


# ---------------------------------------------------------------------------------------------
# Report.


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _p95(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return max(xs, default=float("nan"))
    return statistics.quantiles(xs, n=20, method="inclusive")[18]


def _row(label: str, values: Sequence[float], fmt: str, unit: str = "") -> str:
    each = " ".join(format(v, fmt) for v in values)
    return f"  {label:<40} {format(_median(values), fmt):>9} {unit:<8} [{each}]"


def report(
    args: argparse.Namespace,
    rounds: list[ServiceRound],
    bare: list[tuple[float, float, float]],
    bare_compiling: list[tuple[float, float, float]],
    compile_s: float,
    latency: list[tuple[float, float, float, float]],
) -> None:
    n, ntests = args.submissions, len(TESTS)
    subs_min = [r.n / r.elapsed * 60 for r in rounds]
    test_rate = [r.n * ntests / r.elapsed for r in rounds]
    sandbox_rate = [r.sandbox_runs / r.elapsed for r in rounds]
    bare_rate = [n * ntests / b[0] for b in bare]
    ratio = [s / b for s, b in zip(test_rate, bare_rate, strict=True)]
    print()
    print(
        f"Summary: A+B in {args.language}, {ntests} tests, {n} submissions per round, "
        f"{args.workers} worker processes, {args.clients} HTTP clients, {os.cpu_count()} CPUs"
    )
    print(f"  {'':<40} {'median':>9} {'':<8} [each of {len(rounds)} rounds]")  # fmt: skip
    print(_row("service: submissions/min", subs_min, ".0f"))
    print(_row(f"service: test runs/s ({ntests} per submission)", test_rate, ".1f"))
    per_sub = _median([r.sandbox_runs / r.n for r in rounds])
    print(_row(f"service: sandbox runs/s ({per_sub:g} per sub)", sandbox_rate, ".1f"))
    print(_row("service: first POST -> last verdict", [r.elapsed for r in rounds], ".2f", "s"))
    print(_row("service: all POSTs answered after", [r.posted for r in rounds], ".2f", "s"))
    print(_row("service: one POST round trip", [r.post_ms for r in rounds], ".1f", "ms"))
    print(_row(f"bare: runs/s ({args.workers} processes)", bare_rate, ".1f"))
    # The same program's own CPU time in a box and bare: what isolation costs the program itself.
    box_cpu = [r.test_cpu / (r.n * ntests) * 1000 for r in rounds]
    print(_row("service: CPU of one test run, in the box", box_cpu, ".2f", "ms"))
    print(_row("bare: CPU of one run", [b[1] / (n * ntests) * 1000 for b in bare], ".2f", "ms"))
    if compile_s:
        print(f"  {'bare: one gcc compile (median of 5)':<40} {compile_s * 1000:>9.0f} ms")
    print(_row("ratio service/bare (goal >= 0.80)", ratio, ".2f"))
    if bare_compiling:
        # The service compiles every submission; so does this bare round, each in a directory
        # of its own, then runs the tests: the ratio with compiles counted on both sides.
        compiling_rate = [n * ntests / b[0] for b in bare_compiling]
        print(_row("bare, compiling each submission: runs/s", compiling_rate, ".1f"))
        print(_row("ratio, compiles counted on both sides", [
            s / b for s, b in zip(test_rate, compiling_rate, strict=True)], ".2f"))
    others = [r.others_share() * 100 for r in rounds]
    print(_row("others' load on the cores: service half", others, ".0f", "%"))
    print(_row("others' load on the cores: bare half", [b[2] * 100 for b in bare], ".0f", "%"))
    if latency:
        total = [x[0] * 1000 for x in latency]
        print(f"  latency, one submission at a time on the idle service ({len(latency)} samples, "
              f"{args.latency_gap:g} s apart):")  # fmt: skip
        print(f"  {'  submit -> final verdict: median':<40} {_median(total):>9.0f} ms")
        print(f"  {'  submit -> final verdict: p95':<40} {_p95(total):>9.0f} ms")
        for i, what in ((1, "POST answered"), (2, "queue wait (to claim)"), (3, "grading")):
            part = [x[i] * 1000 for x in latency]
            print(f"  {'    of which ' + what + ': median':<40} {_median(part):>9.1f} ms")

    # Where the cores went: per submission, and as a share of all the machine's cores.
    print()
    print(f"CPU per submission during the service rounds (median of {len(rounds)}; "
          f"share of {os.cpu_count()} cores x elapsed):")  # fmt: skip
    named: dict[str, list[float]] = {}
    for k in rounds[0].cpu:
        if k != "machine":
            named[k] = [r.cpu[k] for r in rounds]
        if k.startswith("sandbox boxes"):
            named["  of which the test programs (as the sandbox measured)"] = [
                r.test_cpu for r in rounds
            ]
    named["rest of the machine (other tenants; +-1 % accounting error)"] = [
        r.others for r in rounds
    ]
    named["machine total"] = [r.cpu["machine"] for r in rounds]
    cores = os.cpu_count() or 1
    for label, secs in named.items():
        ms = _median([s / r.n * 1000 for s, r in zip(secs, rounds, strict=True)])
        share = _median([s / (cores * r.elapsed) * 100 for s, r in zip(secs, rounds, strict=True)])
        print(f"  {label:<62} {ms:>7.1f} ms {share:>5.1f} %")


def print_breakdown(title: str, rows: list[tuple[str, float]], subs: int) -> None:
    total = sum(v for _, v in rows)
    print()
    print(title)
    for label, secs in rows:
        print(f"  {label:<46} {secs / subs * 1000:>8.1f} ms {secs / total * 100 if total else 0:>5.1f} %")  # fmt: skip
    print(f"  {'total (pool processes x wall time)':<46} {total / subs * 1000:>8.1f} ms")


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--timed-worker"]:  # internal: how --profile/--null-sandbox start the worker
        _timed_worker(None if argv[1] == "-" else Path(argv[1]), argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="python3", choices=["python3", "c"])
    parser.add_argument("--submissions", type=int, default=200, help="per round")
    parser.add_argument("--workers", type=int, default=2, help="worker pool processes")
    parser.add_argument("--clients", type=int, default=4, help="HTTP client threads")
    parser.add_argument("--user-share", type=int, default=0, metavar="N",
                        help="JUDGE_USER_SHARE (0: the default, one per CPU; a large N: every "
                             "submission sent at once, as before per-user shares)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="rounds (service + bare)")
    parser.add_argument("--latency-samples", type=int, default=20)
    parser.add_argument("--latency-gap", type=float, default=0.5,
                        help="seconds of idle before each latency sample")  # fmt: skip
    parser.add_argument("--profile", nargs="?", const="service_profile.txt", default=None,
                        metavar="FILE", help="time grading phases; py-spy stacks into FILE")  # fmt: skip
    parser.add_argument("--quiet-below", type=float, default=10, metavar="PCT",
                        help="before each half, wait (up to 2 min) until the machine is busy "
                             "below PCT %% of its cores; 0: do not wait")  # fmt: skip
    parser.add_argument("--null-sandbox", action="store_true",
                        help="the ceiling: the worker runs programs with no isolation at all "
                             "(bench/null_sandbox.py), every other part real; not a judge")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if min(args.submissions, args.workers, args.clients, args.repeat) < 1:
        parser.error("--submissions, --workers, --clients and --repeat must be at least 1")
    if os.geteuid() != 0:
        parser.error("the sandbox needs root (cgroups, namespaces)")

    # SIGTERM unwinds like Ctrl-C, so the finally below stops what we started.
    def on_term(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    workdir = Path(tempfile.mkdtemp(prefix="judge-service-bench-"))
    timers = workdir / "timers" if args.profile else None
    if timers:
        timers.mkdir()
    services = Services(workdir, args.workers, timers, max_queued=max(1000, 2 * args.submissions),
                        user_share=args.user_share, null_sandbox=args.null_sandbox)  # fmt: skip
    client: Client | None = None
    keep = args.keep
    try:
        # How busy the shared machine is without us: the noise the medians have to absorb.
        idle_load = _load()
        services.start()
        client = Client(services, args.clients, args.language)
        client.create_problem()
        compile_s = prepare_bare(workdir, args.language)
        if args.null_sandbox:
            print("NULL SANDBOX: programs run unisolated (the ceiling of any sandbox)")
        print(f"A+B in {args.language}: {len(TESTS)} tests, {args.submissions} submissions x "
              f"{args.repeat} rounds; {args.workers} worker processes, {args.clients} HTTP "
              f"clients, {os.cpu_count()} CPUs; web at {services.url}; machine busy before the "
              f"start: {idle_load * 100:.0f} %", flush=True)  # fmt: skip
        # Warm-up, uncounted: worker start, imports, database engines, the sandbox's first boxes.
        warm = client.service_round(2 * args.workers)
        print(f"  warm-up: {warm.n} submissions in {warm.elapsed:.2f} s", flush=True)

        rounds: list[ServiceRound] = []
        bare: list[tuple[float, float, float]] = []
        bare_compiling: list[tuple[float, float, float]] = []  # compiled languages only
        limit = args.quiet_below / 100

        def quiet() -> None:
            waited, load = wait_quiet(limit)
            if waited > 0.5:
                print(f"  (waited {waited:.0f} s for the machine to quiet down: busy "
                      f"{load * 100:.0f} %)", flush=True)  # fmt: skip

        for i in range(1, args.repeat + 1):
            quiet()
            r = client.service_round(args.submissions)
            rounds.append(r)
            quiet()
            bare.append(bare_round(args.submissions, args.workers))
            if compile_s:
                quiet()
                bare_compiling.append(bare_round(args.submissions, args.workers, compiling=True))
            b, _, bare_others = bare[-1]
            runs = args.submissions * len(TESTS)
            # Others' load: the share of the cores busy with neither half (noise, not us).
            print(f"  round {i}: service {r.elapsed:.2f} s = {r.n / r.elapsed * 60:.0f} subs/min, "
                  f"{runs / r.elapsed:.1f} test runs/s ({r.sandbox_runs} sandbox runs), others' "
                  f"load {r.others_share() * 100:.0f} %; bare {b:.2f} s = {runs / b:.1f} runs/s, "
                  f"others' load {bare_others * 100:.0f} %; ratio {b / r.elapsed:.2f}",
                  flush=True)  # fmt: skip

        quiet()
        latency = client.latency(args.latency_samples, args.latency_gap)
        report(args, rounds, bare, bare_compiling, compile_s, latency)

        if timers is not None:
            subs = sum(r.n for r in rounds)
            print_breakdown(
                f"Where a pool process's wall time goes, per submission (phase timers in the "
                f"worker, {len(rounds)} rounds, {subs} submissions):",
                timer_breakdown(timers, rounds, args.workers),
                subs,
            )
            if shutil.which("py-spy") is None:
                print("\n(py-spy is not installed: `pip install py-spy` for sampled stacks)")
            else:
                out = Path(args.profile).resolve()
                pool = _children(services.procs["worker"].pid)
                quiet()
                with py_spy(pool, out, workdir):
                    r = client.service_round(args.submissions, verify=False)
                client.verify(r.ids)
                main_t, other_t = spy_breakdown(out)
                samples = sum(main_t.values())
                wall = args.workers * r.elapsed
                print_breakdown(
                    f"The same by py-spy samples of the {len(pool)} pool processes' main threads "
                    f"(one extra round under py-spy, not counted above: "
                    f"{r.n / r.elapsed * 60:.0f} subs/min; {samples} samples scaled to "
                    f"{wall:.1f} s; stacks in {out}):",
                    [(k, v / samples * wall) for k, v in main_t.most_common()] if samples else [],
                    r.n,
                )
                if other_t:
                    busy = other_t["working"] / max(1, sum(other_t.values())) * 100
                    # Not wall time of the grading (they run beside it), so apart.
                    print(f"  other threads of the pool processes (the sandbox's box builder): "
                          f"{sum(other_t.values())} samples, {busy:.0f} % of them working, the "
                          f"rest waiting")  # fmt: skip
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; stopping what this benchmark started", file=sys.stderr)
        return 130
    except RuntimeError as e:  # a service failed or a verdict was wrong: the logs tell why
        print(f"service_throughput: {e}", file=sys.stderr)
        keep = True
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if client is not None:
            client.close()
        services.stop()
        if keep:
            print(f"kept {workdir} (logs, database)", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
