"""What a problem's test data costs the pages that only count tests (issue 14, finding 2).

    python3 bench/listing_cost.py                  # 200,000 one-byte tests and 2 x 250 MiB tests
    python3 bench/listing_cost.py --big-mib 20     # a smaller big problem (quicker, less disk)

Builds three SQLite databases in a temporary directory: the baseline (one problem of 10 small
tests), "many" (the baseline plus a problem of --many one-byte tests) and "big" (the baseline plus
a problem of two --big-mib MiB tests). For each it starts the web app (`python -m web.cli web`),
times anonymous `GET /api/problems`, `GET /api/problems/<slug>` and `GET /`, and a submission
read by its author, prints medians and the ratio to the baseline, and the web process's peak RSS
(VmHWM) after three concurrent listings. Everything it starts is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import delete, insert, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import store  # noqa: E402
from store import TestCase  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def build(db: Path, extra: str, many: int, big_mib: int) -> tuple[str, int]:
    """The database; returns the author's token and the id of a submission to the extra
    problem (or the baseline's)."""
    url = f"sqlite:///{db}"
    engine = store.init_db(url)
    sessions = store.session_factory(engine)
    with sessions() as s:
        small = {"slug": "small", "tests": [{"input": f"{i}\n", "output": f"{i}\n"}
                                            for i in range(10)]}  # fmt: skip
        store.import_problem(s, small)
        slug = "small"
        if extra != "baseline":
            slug = extra
            p = store.import_problem(s, {"slug": extra, "tests": [{"input": "x", "output": "x"}]})
            s.flush()
            s.execute(delete(TestCase).where(TestCase.problem_id == p.id))
            if extra == "many":
                rows = [{"problem_id": p.id, "index": i, "input": b"1", "output": b"1",
                         "points": 1.0, "sample": False} for i in range(1, many + 1)]  # fmt: skip
                for start in range(0, len(rows), 20000):
                    s.execute(insert(TestCase), rows[start:start + 20000])
            else:
                blob = b"7" * (big_mib << 20)
                for i in (1, 2):
                    s.execute(insert(TestCase), [{"problem_id": p.id, "index": i, "input": blob,
                                                  "output": blob, "points": 1.0,
                                                  "sample": False}])  # fmt: skip
            # Inserted behind import_problem's back: keep its counts as it would.
            p.test_count = many if extra == "many" else 2
            p.max_score = float(p.test_count)
        token = store.create_token(s, "author")
        s.commit()
        user = s.scalars(select(store.User)).one()
        problem = s.scalars(select(store.Problem).where(store.Problem.slug == slug)).one()
        sub = store.Submission(problem_id=problem.id, language="python3", source="print(1)",
                               queue="interactive", status=store.Status.QUEUED,
                               user_id=user.id)  # fmt: skip
        s.add(sub)
        s.commit()
        sid = sub.id
    engine.dispose()
    return token, sid


def _rss_peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def measure(workdir: Path, name: str, many: int, big_mib: int, repeat: int) -> dict[str, float]:
    db = workdir / f"{name}.db"
    token, sid = build(db, name, many, big_mib)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "JUDGE_DATA_DIR": str(workdir),
           "JUDGE_DATABASE_URL": f"sqlite:///{db}", "JUDGE_REDIS_URL": "redis://127.0.0.1:1/0",
           "JUDGE_SECRET_KEY": secrets.token_urlsafe(16)}  # fmt: skip
    log = (workdir / f"web-{name}.log").open("wb")
    web = subprocess.Popen([sys.executable, "-m", "web.cli", "web", "--port", str(port),
                            "--log-level", "warning"], env=env, stdout=log,
                           stderr=subprocess.STDOUT)  # fmt: skip
    out: dict[str, float] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or web.poll() is not None:
                    raise SystemExit(f"web did not start: see {log.name}") from None
                time.sleep(0.1)
        slug = name if name != "baseline" else "small"
        routes = {"GET /api/problems": "/api/problems", "GET /api/problems/{slug}":
                  f"/api/problems/{slug}", "GET /": "/"}  # fmt: skip
        with httpx.Client(base_url=base, timeout=300) as c:
            for label, path in routes.items():
                times = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    assert c.get(path).status_code == 200
                    times.append(time.perf_counter() - t)
                out[label] = statistics.median(times)
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                r = c.get(f"/api/submissions/{sid}", headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text
                times.append(time.perf_counter() - t)
            out["GET /api/submissions/{id}"] = statistics.median(times)
        threads = [threading.Thread(target=lambda: httpx.get(base + "/api/problems", timeout=300))
                   for _ in range(3)]  # fmt: skip
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        out["peak RSS MiB"] = _rss_peak(web.pid) / (1 << 20)
    finally:
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(10)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
        log.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--many", type=int, default=200_000, help="tests of the 'many' problem")
    ap.add_argument("--big-mib", type=int, default=250, help="MiB of each of the 2 big tests")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="listing-cost-"))
    try:
        results = {name: measure(workdir, name, args.many, args.big_mib, args.repeat)
                   for name in ("baseline", "many", "big")}  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{'':28}{'baseline':>12}{'many':>15}{'ratio':>8}{'big':>15}{'ratio':>8}")
    print(f"{'':28}{'10 tests':>12}{f'{args.many} x 1 B':>15}{'':8}"
          f"{f'2 x {args.big_mib} MiB':>15}")  # fmt: skip
    for label in results["baseline"]:
        b, m, g = (results[n][label] for n in ("baseline", "many", "big"))
        scale, unit = (1, "") if "MiB" in label else (1000, " ms")
        print(f"{label:28}{b * scale:>9.1f}{unit:3}{m * scale:>12.1f}{unit:3}{m / b:>7.2f}x"
              f"{g * scale:>12.1f}{unit:3}{g / b:>7.2f}x")


if __name__ == "__main__":
    main()
