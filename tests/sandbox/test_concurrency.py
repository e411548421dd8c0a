"""Several boxes at once, from threads and from processes: distinct uids, cgroups and files,
and measurements that stay per box."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sandbox
from sandbox import Result, Verdict

BOX_PYTHON = "/usr/bin/python3"

# Each box reports who it is, proves it sees only its own files, and stays alive long
# enough for all boxes to overlap.
IDENTITY = r"""
import json, os, sys, time
data = sys.stdin.read()
mine = open("/box/mine.txt").read()
os.makedirs("/box/out", exist_ok=True)
open("/box/out/echo.txt", "w").write(mine + data)
time.sleep(float(sys.argv[1]))
print(json.dumps({"uid_map": open("/proc/self/uid_map").read().split(),
                  "box": sorted(os.listdir("/box")), "stdin": data, "mine": mine,
                  "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}))
"""


def _identity_run(i: int, hold: float) -> tuple[float, float, Result]:
    started = time.monotonic()
    r = sandbox.run([BOX_PYTHON, "-c", IDENTITY, str(hold)], {"cpu_time": 5, "wall_time": 30},
                    stdin=f"stdin-{i}".encode(), files={"mine.txt": f"file-{i}".encode()},
                    copy_out=["out/echo.txt"])
    return started, time.monotonic(), r


def _check_identities(results: list[Result]) -> None:
    uids = set()
    for i, r in enumerate(results):
        assert r.verdict is Verdict.OK, (i, r.message, r.stderr)
        info = json.loads(r.stdout)
        assert info["stdin"] == f"stdin-{i}" and info["mine"] == f"file-{i}"
        assert info["box"] == ["mine.txt", "out"]
        assert len(info["pids"]) == 3  # only its own init, the seccomp keeper and itself
        assert r.files == {"out/echo.txt": f"file-{i}stdin-{i}".encode()}
        uids.add(info["uid_map"][1])
    assert len(uids) == len(results), f"boxes shared a host uid: {uids}"


def test_eight_runs_from_threads_at_once() -> None:
    barrier = threading.Barrier(8)

    def one(i: int) -> tuple[float, float, Result]:
        barrier.wait()
        return _identity_run(i, 0.8)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, range(8)))
    starts = [s for s, _, _ in outcomes]
    ends = [e for _, e, _ in outcomes]
    assert max(starts) < min(ends), "the runs did not overlap; uids prove nothing"
    _check_identities([r for _, _, r in outcomes])


SUPERVISOR = r"""
import json, sys, time
import sandbox
i = int(sys.argv[1])
ready_at = float(sys.argv[2])
while time.time() < ready_at:
    time.sleep(0.005)
started = time.time()
r = sandbox.run(["/usr/bin/python3", "-c", sys.argv[3], "1.0"], {"cpu_time": 5, "wall_time": 30},
                stdin=f"stdin-{i}".encode(), files={"mine.txt": f"file-{i}".encode()},
                copy_out=["out/echo.txt"])
print(json.dumps({"verdict": r.verdict.value, "stdout": r.stdout.decode(),
                  "message": r.message, "stderr": r.stderr.decode(),
                  "files": {k: v.decode() for k, v in r.files.items()},
                  "started": started, "ended": time.time()}))
"""


def test_four_runs_from_processes_at_once(host_env: dict[str, str]) -> None:
    # Start together: every interpreter waits for the same moment before running its box.
    go = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(i), str(go), IDENTITY],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=host_env)
             for i in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    reports = []
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()
        reports.append(json.loads(out))
    assert max(r["started"] for r in reports) < min(r["ended"] for r in reports)
    results = [Result(Verdict(r["verdict"]), stdout=r["stdout"].encode(), message=r["message"],
                      stderr=r["stderr"].encode(),
                      files={k: v.encode() for k, v in r["files"].items()}) for r in reports]
    _check_identities(results)


SPIN = "import time\nend = time.process_time() + 0.8\nwhile time.process_time() < end: pass"


def test_cpu_time_stays_per_box() -> None:
    def spinner() -> Result:
        return sandbox.run([BOX_PYTHON, "-c", SPIN], {"cpu_time": 5})

    def sleeper() -> Result:
        return sandbox.run([BOX_PYTHON, "-c", "import time; time.sleep(0.8)"], {"cpu_time": 5})

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(spinner), pool.submit(sleeper), pool.submit(sleeper)]
        spin, *sleeps = (f.result() for f in futures)
    assert spin.verdict is Verdict.OK
    assert 0.75 <= spin.cpu_time <= 1.1
    for r in sleeps:
        assert r.verdict is Verdict.OK
        assert r.wall_time >= 0.75
        assert r.cpu_time < 0.1, "a sleeper was charged another box's CPU"


def test_memory_peak_stays_per_box() -> None:
    big = "import time; b = b'x' * (80 << 20); time.sleep(0.5)"
    small = "import time; time.sleep(0.5)"
    with ThreadPoolExecutor(2) as pool:
        fb = pool.submit(sandbox.run, [BOX_PYTHON, "-c", big], {"memory": "256M"})
        fs = pool.submit(sandbox.run, [BOX_PYTHON, "-c", small], {"memory": "256M"})
        rb, rs = fb.result(), fs.result()
    assert rb.verdict is rs.verdict is Verdict.OK
    assert rb.memory_peak >= 80 << 20
    assert rs.memory_peak < 40 << 20, "a small box was charged another box's memory"


def test_verdicts_stay_per_box() -> None:
    jobs: dict[str, Callable[[], Result]] = {
        "ok": lambda: sandbox.run([BOX_PYTHON, "-c", "import time; time.sleep(0.3); print(1)"]),
        "re": lambda: sandbox.run([BOX_PYTHON, "-c", "import time; time.sleep(0.3); exit(7)"]),
        "tle": lambda: sandbox.run([BOX_PYTHON, "-c", "while True: pass"], {"cpu_time": 0.3}),
        "wall": lambda: sandbox.run([BOX_PYTHON, "-c", "import time; time.sleep(9)"],
                                    {"wall_time": 0.4}),
        "out": lambda: sandbox.run([BOX_PYTHON, "-c", "import sys; sys.stdout.write('o' * 2000)"],
                                   {"output": 1000}),
    }
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        got: dict[str, Any] = {name: f.result() for name, f in futures.items()}
    assert got["ok"].verdict is Verdict.OK and got["ok"].stdout == b"1\n"
    assert got["re"].verdict is Verdict.RUNTIME_ERROR and got["re"].exit_code == 7
    assert got["tle"].verdict is Verdict.TIME_LIMIT
    assert got["wall"].verdict is Verdict.TIME_LIMIT
    assert got["out"].verdict is Verdict.OUTPUT_LIMIT
    assert got["ok"].cpu_time < 0.2 and got["re"].cpu_time < 0.2


def test_outputs_do_not_mix() -> None:
    code = "import sys; sys.stdout.write(sys.argv[1] * 1_000_000)"

    def one(ch: str) -> Result:
        return sandbox.run([BOX_PYTHON, "-c", code, ch], {"output": "2M"})

    letters = "abcdef"
    with ThreadPoolExecutor(len(letters)) as pool:
        results = list(pool.map(one, letters))
    for ch, r in zip(letters, results, strict=True):
        assert r.verdict is Verdict.OK
        assert r.stdout == ch.encode() * 1_000_000
