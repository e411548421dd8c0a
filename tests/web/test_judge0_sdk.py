"""The official Judge0 Python SDK (``judge0`` from PyPI), unchanged, against a real ``judge up``.

One ``judge up`` (its own Redis, web server and two workers, SQLite) for the module; the last
test stops it and starts it again on the same data directory, and reads earlier tokens back.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import judge0  # type: ignore[import-untyped]
import pytest

import store

stack_module = sys.modules["web_test_stack"]
servers = stack_module.servers

ECHO_PY = "print(input())\n"
HELLO_C = '#include <stdio.h>\nint main(void) { printf("hello from C\\n"); return 0; }\n'
DOUBLE_PY = "print(2 * int(input()))\n"
BYTES_PY = "import sys\nsys.stdout.buffer.write(bytes(range(256)))\n"
CAT_PY = "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n"
# Touches every page, so the memory is really used and the kernel's OOM killer ends it.
HOG_C = (
    "#include <stdlib.h>\n#include <string.h>\n"
    "int main(void) { for (int i = 0; i < 64; i++) { char *p = malloc(16 << 20);"
    " if (!p) return 3; memset(p, 1, 16 << 20); } return 0; }\n"
)


@dataclass
class Judge:
    url: str
    token: str  # an admin's
    user_token: str  # a non-admin's
    proc: subprocess.Popen[str]
    workdir: Path
    port: int
    lines: list[str]

    def client(self, token: str | None = None) -> Any:
        return judge0.Client(f"{self.url}/judge0", headers={"X-Auth-Token": token or self.token})

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"X-Auth-Token": token or self.token}
        return httpx.Client(base_url=f"{self.url}/judge0", headers=headers, timeout=60)


def _reader(proc: subprocess.Popen[str], lines: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))


def _wait_for(lines: list[str], marker: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for i, line in enumerate(lines):
            if marker in line:
                return i
        time.sleep(0.1)
    raise AssertionError(f"no {marker!r} from judge up; output so far: {lines}")


def _start(workdir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUDGE_")}
    env["PYTHONPATH"] = str(stack_module.REPO)
    # One user sends the whole module's runs within a minute; 20 of them at once in the batch.
    env.update(JUDGE_RATE_LIMIT="1000", JUDGE_MAX_UNFINISHED="100")
    judge = shutil.which("judge")
    argv = [judge] if judge else [sys.executable, "-m", "web.cli"]
    proc = subprocess.Popen(
        [*argv, "up", "--port", str(port), "--workers", "2"], cwd=workdir, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    return proc, lines


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture(scope="module")
def judge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judge]:
    workdir = tmp_path_factory.mktemp("judge0-up")
    port = servers.free_port()
    proc, lines = _start(workdir, port)
    try:
        i = _wait_for(lines, "admin API token", 120)
        servers.wait_until(lambda: len(lines) > i + 1, 10, "the token line")
        token = lines[i + 1].strip()
        # The web asks every toolchain its version once, after it starts (a JVM takes
        # seconds); the SDK would give up on a first request after 5 s.
        with httpx.Client(timeout=120) as h:
            names = h.get(f"http://127.0.0.1:{port}/judge0/languages",
                          headers={"X-Auth-Token": token})  # fmt: skip
            assert names.status_code == 200, names.text
        engine = store.make_engine(f"sqlite:///{workdir / 'var' / 'judge.db'}")
        with store.session_factory(engine)() as s:
            user_token = store.create_token(s, "student")
            s.commit()
        engine.dispose()
        j = Judge(f"http://127.0.0.1:{port}", token, user_token, proc, workdir, port, lines)
        yield j
        proc = j.proc
    finally:
        _stop(proc)


def test_sdk_runs_python_and_c(judge: Judge) -> None:
    client = judge.client()
    assert client.version == "1.13.1"
    assert client.config.enable_network is False and client.config.max_submission_batch_size == 20
    py = judge0.run(client=client, source_code=ECHO_PY, language=judge0.PYTHON, stdin="hi there")
    assert py.status == judge0.Status.ACCEPTED, (py.status, py.stderr, py.message)
    assert py.stdout == "hi there\n" and py.stderr is None and py.compile_output is None
    assert uuid.UUID(str(py.token)).version == 4
    assert 0 < py.time < 1 and py.memory > 0 and py.exit_code == 0
    assert py.created_at is not None and py.finished_at >= py.created_at

    c = judge0.run(client=client, source_code=HELLO_C, language=judge0.C)
    assert c.status == judge0.Status.ACCEPTED, (c.status, c.compile_output)
    assert c.stdout == "hello from C\n"
    cpp = judge0.run(client=client, source_code="int main() { return 3; }", language=judge0.CPP)
    assert cpp.status == judge0.Status.RUNTIME_ERROR_NZEC and cpp.exit_code == 3
    assert cpp.message == base64.b64encode(b"Exited with error status 3").decode()


def test_a_batch_of_twenty_with_wait(judge: Judge) -> None:
    client = judge.client()
    subs = [
        judge0.Submission(source_code=DOUBLE_PY, language=judge0.PYTHON, stdin=str(i),
                          expected_output=str(2 * i))
        for i in range(20)
    ]  # fmt: skip
    # async_run returns copies of the submissions, with their tokens.
    subs = judge0.async_run(client=client, submissions=subs)
    assert len({s.token for s in subs}) == 20
    judge0.wait(client=client, submissions=subs, retry_strategy=judge0.MaxWaitTime(120))
    assert [s.status for s in subs] == [judge0.Status.ACCEPTED] * 20
    assert [s.stdout for s in subs] == [f"{2 * i}\n" for i in range(20)]


def test_wrong_answer_compile_error_tle_and_oom(judge: Judge) -> None:
    client = judge.client()
    wa = judge0.run(client=client, source_code=DOUBLE_PY, language=judge0.PYTHON, stdin="2",
                    expected_output="5")  # fmt: skip
    assert wa.status == judge0.Status.WRONG_ANSWER and wa.stdout == "4\n"
    # Judge0 compares with trailing spaces and blank lines stripped.
    ok = judge0.run(client=client, source_code=DOUBLE_PY, language=judge0.PYTHON, stdin="2",
                    expected_output="4  \n\n")  # fmt: skip
    assert ok.status == judge0.Status.ACCEPTED

    ce = judge0.run(client=client, source_code="int main( { return 0; }", language=judge0.C)
    assert ce.status == judge0.Status.COMPILATION_ERROR
    assert "error" in ce.compile_output and ce.stdout is None and ce.time is None

    tle = judge0.run(client=client, source_code="while True:\n    pass\n",
                     language=judge0.PYTHON, cpu_time_limit=1, cpu_extra_time=0.5)  # fmt: skip
    assert tle.status == judge0.Status.TIME_LIMIT_EXCEEDED
    assert 1.0 <= tle.time <= 2.5, tle.time

    oom = judge0.run(client=client, source_code=HOG_C, language=judge0.C, memory_limit=65536)
    # Judge0's status for a kill by SIGKILL, and ours beside it.
    assert oom.status == judge0.Status.RUNTIME_ERROR_OTHER, (oom.status, oom.message)
    assert oom.exit_signal == signal.SIGKILL
    with judge.http() as h:
        extra = h.get(f"/submissions/{oom.token}",
                      params={"fields": "status,verdict,oom_killed,memory"}).json()  # fmt: skip
    assert extra["verdict"] == "MLE" and extra["oom_killed"] is True
    assert extra["status"] == {"id": 12, "description": "Runtime Error (Other)"}
    assert 50_000 <= extra["memory"] <= 80_000, extra  # KB, about the 64 MiB limit


def test_base64_round_trips_bytes_that_are_not_utf8(judge: Judge) -> None:
    client = judge.client()
    out = judge0.run(client=client, source_code=BYTES_PY, language=judge0.PYTHON)
    assert out.status == judge0.Status.ACCEPTED
    # The SDK decodes what it gets with errors="backslashreplace": each byte came back.
    assert out.stdout == bytes(range(256)).decode(errors="backslashreplace")
    with judge.http() as h:
        raw = h.get(f"/submissions/{out.token}", params={"base64_encoded": "true"}).json()
        assert base64.b64decode(raw["stdout"]) == bytes(range(256))
        plain = h.get(f"/submissions/{out.token}")
        assert plain.status_code == 400 and "base64_encoded=true" in plain.json()["error"]

        data = b"\xff\xfe\x00\x80 not text \xc3\x28\n"
        body = {"language_id": 71, "source_code": base64.b64encode(CAT_PY.encode()).decode(),
                "stdin": base64.b64encode(data).decode()}  # fmt: skip
        r = h.post("/submissions", params={"base64_encoded": "true", "wait": "true"}, json=body)
        assert r.status_code == 201, r.text
        assert r.json()["status"]["id"] == 3 and base64.b64decode(r.json()["stdout"]) == data
        assert r.json()["verdict"] == "AC" and r.json()["oom_killed"] is False


def test_metadata_and_judge0_error_shapes(judge: Judge) -> None:
    with judge.http() as h:
        assert h.get("/about").json()["version"] == "1.13.1"
        listed = {lang["id"]: lang["name"] for lang in h.get("/languages").json()}
        assert {71, 50, 52, 54, 62, 63, 73, 72, 85, 46} <= set(listed), listed
        assert listed[50].startswith("C (GCC ") and listed[71].startswith("Python (3.")
        one = h.get("/languages/71").json()
        assert one["id"] == 71 and one["source_file"] == "main.py" and one["is_archived"] is False
        assert h.get("/languages/9999").status_code == 404
        statuses = h.get("/statuses").json()
        assert [s["id"] for s in statuses] == list(range(1, 15))
        assert statuses[6] == {"id": 7, "description": "Runtime Error (SIGSEGV)"}

        def refused(body: dict[str, Any]) -> dict[str, Any]:
            r = h.post("/submissions", json={"language_id": 71, "source_code": "print(1)", **body})
            assert r.status_code == 422, r.text
            result: dict[str, Any] = r.json()
            return result

        assert refused({"enable_network": True}) == {
            "enable_network": ["enabling network is not allowed"]
        }
        assert refused({"cpu_time_limit": 100}) == {
            "cpu_time_limit": ["must be less than or equal to 10"]
        }
        assert refused({"memory_limit": 10**9}) == {
            "memory_limit": ["must be less than or equal to 1048576"]
        }
        assert refused({"language_id": 9999}) == {
            "language_id": ["language with id 9999 doesn't exist"]
        }
        assert refused({"source_code": ""}) == {"source_code": ["can't be blank"]}
        assert refused({"language_id": 71, "compiler_options": "-O3"}) == {
            "compiler_options": ["setting compiler options is only allowed for C and C++"]
        }
        r = h.post("/submissions/batch", json={"submissions": [
            {"language_id": 71, "source_code": "print(1)"},
            {"language_id": 123456, "source_code": "x"},
        ]})  # fmt: skip
        assert r.status_code == 201 and "token" in r.json()[0]
        assert r.json()[1] == {"language_id": ["language with id 123456 doesn't exist"]}
        bad = h.get(f"/submissions/{r.json()[0]['token']}", params={"fields": "stdout,nope"})
        assert bad.status_code == 400 and bad.json() == {"error": "invalid fields: [nope]"}
        assert h.get(f"/submissions/{uuid.uuid4()}").status_code == 404
    # Anonymous access is off unless the admin turns it on; a wrong token is refused too.
    with httpx.Client(base_url=f"{judge.url}/judge0", timeout=30) as anon:
        assert anon.get("/languages").status_code == 401
        assert anon.get("/languages", headers={"X-Auth-Token": "nope"}).status_code == 401
        bearer = anon.get("/languages", headers={"Authorization": f"Bearer {judge.token}"})
        assert bearer.status_code == 200


def test_compiler_options_and_arguments_reach_the_program(judge: Judge) -> None:
    src = '#include <stdio.h>\nint main(int c, char **v) { printf("%d %s %d\\n", c, v[1], X); }\n'
    client = judge.client()
    r = judge0.run(client=client, source_code=src, language=judge0.C,
                   compiler_options="-DX=42", command_line_arguments="first second")  # fmt: skip
    assert r.status == judge0.Status.ACCEPTED, r.compile_output
    assert r.stdout == "3 first 42\n"


def test_delete_is_for_admins_and_tokens_survive_a_restart(judge: Judge) -> None:
    client = judge.client()
    # Inputs with a space: the SDK's Submission takes any text that happens to be valid
    # Base64 ("gone") for Base64 and decodes it (its validator, not the server).
    keep = judge0.run(client=client, source_code=ECHO_PY, language=judge0.PYTHON, stdin="kept it")
    gone = judge0.run(client=client, source_code=ECHO_PY, language=judge0.PYTHON, stdin="gone now")
    with judge.http(judge.user_token) as student:
        # Another user's token is not theirs to read, nor to delete.
        assert student.get(f"/submissions/{keep.token}").status_code == 404
        assert student.delete(f"/submissions/{gone.token}").status_code == 403
    with judge.http() as admin:
        r = admin.delete(f"/submissions/{gone.token}", params={"fields": "stdout,status"})
        assert r.status_code == 200 and base64.b64decode(r.json()["stdout"]) == b"gone now\n"
        assert admin.get(f"/submissions/{gone.token}").status_code == 404

    _stop(judge.proc)
    judge.proc, judge.lines = _start(judge.workdir, judge.port)
    _wait_for(judge.lines, "Judge is running", 120)
    servers.wait_until(lambda: servers.port_open(judge.port), 20, "web")
    with judge.http() as admin:
        back = admin.get(f"/submissions/{keep.token}", params={"fields": "*"}).json()
    assert back["stdout"] == "kept it\n" and back["status"]["id"] == 3 and back["language_id"] == 71
    # And the SDK reads it with fields=* as it always does.
    again = judge0.Submission(token=keep.token)
    client = judge.client()
    client.get_submission(again)
    assert again.stdout == "kept it\n" and again.status == judge0.Status.ACCEPTED
