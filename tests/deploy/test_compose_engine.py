"""docker-compose.yml on a real Docker engine: README's Docker Compose steps, every verdict,
and a worker container killed mid-grading.

The engine comes from ../shared/tools/docker (resolved from the repository, as on CI): Debian's
docker.io 20.10 with Compose v2 and base images made locally, since no image registry answers
here. Its `this-machine.override.yml` only drops SYS_RESOURCE, which no process on these
machines may hold; everything else is the project's compose file unchanged, seccomp profile
and all. The stack gets a project name and ports of its own, and its settings come from a
.env made from .env.example (random secrets, and a 10 s lease so that a killed worker's claim
runs out quickly), so nothing of a real deployment is touched.

Steps: engine up, image build (with the C, C++ and Python toolchains only), stack up and healthy (one worker), the README's user, token and
import commands, then AC, WA, TLE, MLE (the kernel's OOM killer inside the container: the
result says oom_killed) and CE through the published port; then a second worker, a slow
submission, `docker kill` of the container grading it, and the other worker grades it again:
one result, each test once, in the database too. Whatever happens, the stack is removed and the
tool's down.sh stops the engine and reverts the host (while dockerd runs, the host's FORWARD
policy is DROP: nothing else may run meanwhile, and pytest here runs one test at a time).
It prints how long each step took.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

servers: Any = sys.modules["judge_test_servers"]
REPO = Path(__file__).resolve().parents[2]
TOOL = REPO.parent / "shared" / "tools" / "docker"
DOCKER_TEST_DIR = Path(os.environ.get("DOCKER_TEST_DIR", "/tmp/docker-test"))
PROJECT = f"judgetest{os.getpid()}"
AB_PY = "print(sum(map(int, input().split())))\n"
#: AC, but half a second per test: five tests are long enough to kill a worker mid-way. It
#: sleeps rather than spins, so a loaded machine cannot push it past the limits (TLE).
SLOW_AB_PY = """import time
time.sleep(0.5)
print(sum(map(int, input().split())))
"""
WA_C = '#include <stdio.h>\nint main(){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b+1);}\n'
TLE_CPP = "int main() { for (;;); }\n"
MLE_C = ("#include <stdlib.h>\n#include <string.h>\n"
         "int main(){for(;;){char*p=malloc(1<<20);memset(p,1,1<<20);}}\n")  # fmt: skip
CE_C = "int main() { return x; }\n"


class Engine:
    """The tool's dockerd, and `docker compose` for this test's project."""

    def __init__(self, env_file: Path) -> None:
        self.env = {**os.environ, "DOCKER_HOST": f"unix://{DOCKER_TEST_DIR}/docker.sock",
                    "DOCKER_CONFIG": str(DOCKER_TEST_DIR / "cli-config")}  # fmt: skip
        self.compose_argv = ["docker", "compose", "-p", PROJECT, "--env-file", str(env_file),
                             "-f", "docker-compose.yml",
                             "-f", str(TOOL / "this-machine.override.yml")]  # fmt: skip

    def run(self, argv: list[str], timeout: float, check: bool = True) -> str:
        r = subprocess.run(argv, cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)  # fmt: skip
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} -> {r.returncode}:\n"
                                 f"{(r.stdout + r.stderr)[-4000:]}")  # fmt: skip
        return r.stdout

    def docker(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        return self.run(["docker", *args], timeout, check)

    def compose(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        return self.run([*self.compose_argv, *args], timeout, check)

    def logs(self) -> str:
        with contextlib.suppress(Exception):
            return self.compose("logs", "--no-color", "--tail", "40", check=False)[-6000:]
        return ""


def engine_running() -> bool:
    pid = DOCKER_TEST_DIR / "dockerd.pid"
    try:
        os.kill(int(pid.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def nft_tables(nft: str) -> list[str]:
    r = subprocess.run([nft, "list", "tables"], capture_output=True, text=True, timeout=30)
    return sorted(r.stdout.splitlines())


def env_file(directory: Path, ports: dict[str, int]) -> Path:
    """.env.example with every CHANGE value a fresh secret, and this test's ports."""
    lines = []
    for line in (REPO / ".env.example").read_text().splitlines():
        line = re.sub(r"CHANGE-[\w-]+", lambda _: secrets.token_hex(12), line)
        key = line.partition("=")[0]
        if key in ports:
            line = f"{key}={ports[key]}"
        lines.append(line)
    # A short lease: a killed worker's claim runs out in seconds, not a minute.
    lines.append("JUDGE_LEASE_SECONDS=10")
    path = directory / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def submit(c: httpx.Client, problem: str, language: str, source: str) -> dict[str, Any]:
    r = c.post("/api/submissions?wait=true",
               json={"problem": problem, "language": language, "source": source})  # fmt: skip
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    assert out["status"] == "done", out
    return out


def grading_container(engine: Engine, containers: list[str]) -> str | None:
    """The worker container running a submitted program: a process of a box uid (boxes run
    as unprivileged uids of their slot) running the submission's main.py. (Not any box
    process: each worker process keeps a long-lived Python parser in a box of its own.)"""
    for name in containers:
        # docker top runs the host's ps and keeps the container's rows: it needs the pid column.
        top = engine.docker("top", name, "-eo", "pid,uid,args")
        for line in top.splitlines()[1:]:
            _pid, uid, args = line.split(None, 2)
            if int(uid) != 0 and "boxinit" not in args and "main.py" in args.split():
                return name
    return None


@pytest.fixture
def timings(capsys: pytest.CaptureFixture[str]) -> Iterator[dict[str, float]]:
    measured: dict[str, float] = {}
    yield measured
    with capsys.disabled():
        print("\ndocker compose on a real engine: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in measured.items()), flush=True)  # fmt: skip


@pytest.mark.timeout(1800)
def test_compose_stack_on_a_real_engine(timings: dict[str, float]) -> None:
    if os.geteuid() != 0:
        pytest.skip("starting a Docker engine needs root")
    if not (TOOL / "up.sh").is_file():
        pytest.skip(f"no Docker engine can start here: {TOOL} (the tool that starts one) is absent")
    if shutil.which("apt-get") is None:
        pytest.skip("no Docker engine can start here: the tool installs it with apt-get")

    # Docker adds nft tables (FORWARD policy DROP); down.sh removes them with nft, and without
    # it every later test would run behind Docker's firewall.
    nft = shutil.which("nft")
    assert nft, "nft is missing (apt-get install nftables; .ci/run does): down.sh needs it"
    tables_before = nft_tables(nft)

    tmp = Path(tempfile.mkdtemp(prefix="judge-compose-"))
    ports = {"WEB_PORT": servers.free_port(), "POSTGRES_PORT": servers.free_port(),
             "REDIS_PORT": servers.free_port()}  # fmt: skip
    engine = Engine(env_file(tmp, ports))
    ours = not engine_running()  # an engine someone else started is left running
    try:
        t0 = time.monotonic()
        up = subprocess.run(["bash", str(TOOL / "up.sh")], env=engine.env, capture_output=True,
                            text=True, timeout=900, stdin=subprocess.DEVNULL)  # fmt: skip
        timings["engine up"] = time.monotonic() - t0
        assert up.returncode == 0, f"the tool's up.sh failed:\n{(up.stdout + up.stderr)[-3000:]}"
        assert f"DOCKER_HOST={engine.env['DOCKER_HOST']}" in up.stdout, up.stdout

        # README: docker compose up -d --build, in two steps so that each is timed. The image
        # keeps only the toolchains graded here (the Dockerfile's LANGUAGE_PACKAGES; Java,
        # Node, Ruby and Perl alone take minutes to install and are tested on the host).
        t0 = time.monotonic()
        engine.compose("build", "--build-arg", "LANGUAGE_PACKAGES=g++", timeout=1200)
        timings["build"] = time.monotonic() - t0
        t0 = time.monotonic()
        try:
            engine.compose("up", "-d", "--wait", "--scale", "worker=1", timeout=600)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{engine.logs()}") from None
        timings["stack healthy"] = time.monotonic() - t0
        # The worker really runs under the project's seccomp profile (not Docker's default,
        # which refuses pivot_root and makes every box fail).
        worker = f"{PROJECT}-worker-1"
        opts = json.loads(engine.docker("inspect", "-f", "{{json .HostConfig.SecurityOpt}}",
                                        worker))  # fmt: skip
        assert "apparmor=unconfined" in opts, opts
        given = [json.loads(o.removeprefix("seccomp=")) for o in opts if o.startswith("seccomp=")]
        assert given == [json.loads((REPO / "docker" / "worker-seccomp.json").read_text())], (
            "the worker does not run under docker/worker-seccomp.json")
        assert "SYS_RESOURCE" not in engine.docker("inspect", "-f", "{{.HostConfig.CapAdd}}",
                                                   worker)  # fmt: skip

        t0 = time.monotonic()
        out = engine.compose("run", "--rm", "web", "judge", "user", "create", "admin", "--admin")
        assert out.strip().splitlines()[-1].strip(), out  # the password, printed last
        out = engine.compose("run", "--rm", "web", "judge", "token", "create", "admin")
        token = out.strip().splitlines()[-1].strip()
        out = engine.compose("run", "--rm", "web", "judge", "problem", "import",
                             "web/samples/aplusb", "web/samples/maxsub")  # fmt: skip
        assert "imported aplusb" in out and "imported maxsub" in out, out
        timings["README's user, token, import"] = time.monotonic() - t0

        base = f"http://127.0.0.1:{ports['WEB_PORT']}"
        with httpx.Client(base_url=base, timeout=180,
                          headers={"Authorization": f"Bearer {token}"}) as c:  # fmt: skip
            health = c.get("/health").json()
            assert health["status"] == "ok" and health["workers"] == 1, health
            cases = [("AC", "python3", AB_PY), ("WA", "c", WA_C), ("TLE", "cpp", TLE_CPP),
                     ("MLE", "c", MLE_C), ("CE", "c", CE_C)]  # fmt: skip
            for verdict, language, source in cases:
                t0 = time.monotonic()
                got = submit(c, "aplusb", language, source)
                timings[verdict] = time.monotonic() - t0
                assert got["verdict"] == verdict, got
                if verdict == "AC":
                    assert [t["verdict"] for t in got["tests"]] == ["AC"] * 5, got
                if verdict == "MLE":
                    assert got["tests"][0]["oom_killed"] is True, got
                    assert got["tests"][0]["memory"] >= 200 << 20, got
                if verdict == "TLE":  # the CPU limit, or on a loaded machine the wall limit
                    assert got["tests"][0]["wall_time"] >= 1.0, got
                if verdict == "CE":
                    assert "undeclared" in got["compile_output"], got

            # README: --scale worker=N. The second one counts once it has said ready.
            t0 = time.monotonic()
            engine.compose("up", "-d", "--no-recreate", "--scale", "worker=2")
            servers.wait_until(lambda: c.get("/health").json()["workers"] == 2, 120,
                               "two live workers in /health")  # fmt: skip
            timings["second worker"] = time.monotonic() - t0
            workers = [f"{PROJECT}-worker-{i}" for i in (1, 2)]

            r = c.post("/api/submissions",
                       json={"problem": "aplusb", "language": "python3", "source": SLOW_AB_PY})
            assert r.status_code in (200, 201, 202), r.text
            sid = r.json()["id"]
            victim: list[str] = []

            def running() -> bool:
                name = grading_container(engine, workers)
                victim[:] = [name] if name else []
                return name is not None

            servers.wait_until(running, 60, "a worker running the slow submission")
            assert c.get(f"/api/submissions/{sid}").json()["status"] == "running"
            engine.docker("kill", victim[0])
            t0 = time.monotonic()
            got = c.get(f"/api/submissions/{sid}").json()
            while got["status"] != "done" and time.monotonic() - t0 < 180:
                got = c.get(f"/api/submissions/{sid}?wait=true").json()
            timings["recovery after the kill"] = time.monotonic() - t0
            assert got["verdict"] == "AC", got
            assert [t["index"] for t in got["tests"]] == [1, 2, 3, 4, 5], got
            assert got["test_count"] == 5 and got["history"] == [], got
            state = engine.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}",
                                  victim[0]).split()  # fmt: skip
            assert state == ["exited", "137"], state  # really killed, and stays so

        # The database agrees: claimed twice (the kill lost the first claim), results once.
        rows = engine.compose(
            "exec", "-T", "postgres", "psql", "-U", "judge", "-d", "judge", "-At", "-c",
            f"select attempts, status from submissions where id = {sid};"
            f"select count(*), count(distinct test_index) from test_results"
            f" where submission_id = {sid}",
        ).split()
        assert rows[0] == "2|done" and rows[1] == "5|5", rows
    finally:
        t0 = time.monotonic()
        if engine_running():
            engine.compose("down", "-v", "--remove-orphans", timeout=180, check=False)
            engine.docker("image", "prune", "-f", timeout=120, check=False)
            timings["compose down"] = time.monotonic() - t0
            t0 = time.monotonic()
        if ours:
            subprocess.run(["bash", str(TOOL / "down.sh")], env=engine.env, timeout=300,
                           capture_output=True, stdin=subprocess.DEVNULL)  # fmt: skip
        timings["engine down"] = time.monotonic() - t0
        shutil.rmtree(tmp, ignore_errors=True)
    assert not ours or not engine_running(), "down.sh left dockerd running"
    if ours:
        assert not Path("/sys/class/net/docker0").exists(), "down.sh left docker0"
        assert nft_tables(nft) == tables_before, "down.sh left Docker's nft tables"
