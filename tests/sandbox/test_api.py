"""The Python API contract (DESIGN 3.1): run(), Result fields, Verdict, stdin, env, seccomp."""

from __future__ import annotations

import dataclasses
import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

import sandbox
from sandbox import Limits, Result, Verdict

BOX_PYTHON = "/usr/bin/python3"
BoxPy = Callable[..., Result]


def test_ok_run_fills_every_field(box_py: BoxPy) -> None:
    r = box_py("import sys; print(1); sys.stderr.write('warn\\n')", {"cpu_time": 2})
    assert isinstance(r, Result)
    assert r.verdict is Verdict.OK and r.ok
    assert r.exit_code == 0 and r.signal is None
    assert r.stdout == b"1\n" and r.stderr == b"warn\n"
    assert 0 < r.cpu_time < 1.0
    assert 0 < r.wall_time < 2.0
    assert 1 << 20 < r.memory_peak < 64 << 20
    assert r.oom_killed is False
    assert r.message == "" and r.blocked_syscall is None and r.files == {}


def test_limits_object_and_mapping_are_equivalent(box_py: BoxPy) -> None:
    code = "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    a = box_py(code, Limits(open_files=17, memory="64M"))
    b = box_py(code, {"open_files": 17, "memory": "64M"})
    assert a.verdict is b.verdict is Verdict.OK
    assert a.stdout == b.stdout == b"17\n"


def test_limits_none_uses_defaults() -> None:
    r = sandbox.run(["/bin/true"])
    assert r.verdict is Verdict.OK and r.exit_code == 0


def test_command_may_be_a_tuple_and_path_lookup_uses_box_path() -> None:
    r = sandbox.run(("echo", "a", "b c"), None)
    assert r.verdict is Verdict.OK
    assert r.stdout == b"a b c\n"


def test_verdict_is_a_str_enum_with_the_documented_codes() -> None:
    codes = {v.name: v.value for v in Verdict}
    assert codes == {"OK": "OK", "RUNTIME_ERROR": "RE", "TIME_LIMIT": "TLE",
                     "MEMORY_LIMIT": "MLE", "OUTPUT_LIMIT": "OLE",
                     "SECURITY_VIOLATION": "SV", "INTERNAL_ERROR": "IE"}
    assert Verdict.TIME_LIMIT == "TLE" and isinstance(Verdict.OK, str)
    assert str(Verdict.MEMORY_LIMIT) == "MLE" and f"{Verdict.RUNTIME_ERROR}" == "RE"
    assert Verdict("SV") is Verdict.SECURITY_VIOLATION


def test_nonzero_exit_is_runtime_error_with_code(box_py: BoxPy) -> None:
    r = box_py("raise SystemExit(3)")
    assert r.verdict is Verdict.RUNTIME_ERROR and not r.ok
    assert r.exit_code == 3 and r.signal is None
    assert "3" in r.message and "\n" not in r.message


def test_death_by_signal_is_runtime_error_with_signal(box_py: BoxPy) -> None:
    r = box_py("import os, signal; os.kill(os.getpid(), signal.SIGABRT)")
    assert r.verdict is Verdict.RUNTIME_ERROR
    assert r.signal == signal.SIGABRT and r.exit_code is None
    assert "SIGABRT" in r.message


def test_missing_executable_is_runtime_error_127() -> None:
    r = sandbox.run(["/box/does-not-exist"])
    assert r.verdict is Verdict.RUNTIME_ERROR
    assert r.exit_code == 127
    assert "does-not-exist" in r.message


def test_stdin_bytes_reach_the_program(box_py: BoxPy) -> None:
    data = bytes(range(256)) * 1000 + b"end"
    r = box_py("import sys, hashlib; d = sys.stdin.buffer.read(); "
               "print(len(d), hashlib.sha256(d).hexdigest())", stdin=data)
    import hashlib

    assert r.stdout.split() == [str(len(data)).encode(), hashlib.sha256(data).hexdigest().encode()]


def test_stdin_from_a_file_str_and_path(box_py: BoxPy, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"1 2\n3 4\n")
    code = "import sys; print(sum(int(x) for x in sys.stdin.read().split()))"
    assert box_py(code, stdin=str(src)).stdout == b"10\n"
    assert box_py(code, stdin=src).stdout == b"10\n"


def test_stdin_defaults_to_empty(box_py: BoxPy) -> None:
    r = box_py("import sys; print(repr(sys.stdin.buffer.read()))")
    assert r.stdout == b"b''\n"


def test_stdin_is_a_read_only_copy(box_py: BoxPy, tmp_path: Path) -> None:
    # The program cannot change what the host passed (a sealed copy, not the host file).
    src = tmp_path / "in.txt"
    src.write_bytes(b"original")
    r = box_py("import os\ntry:\n    os.write(0, b'X')\n    print('wrote')\n"
               "except OSError as e:\n    print('refused', e.errno)", stdin=src)
    assert r.verdict is Verdict.OK
    assert r.stdout.startswith(b"refused")
    assert src.read_bytes() == b"original"


def test_env_is_clean_plus_what_is_asked(box_py: BoxPy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST_SECRET", "hunter2")
    r = box_py("import os, json; print(json.dumps(dict(os.environ)))",
               env={"GREETING": "a=b c", "PATH": "/usr/bin"})
    env = json.loads(r.stdout)
    assert "HOST_SECRET" not in env
    assert env["GREETING"] == "a=b c"
    assert env["PATH"] == "/usr/bin"
    assert set(env) == {"PATH", "HOME", "LANG", "GREETING"}


def test_seccomp_on_by_default_and_can_be_turned_off(box_py: BoxPy) -> None:
    code = ("print([l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('Seccomp:')][0])")
    assert box_py(code).stdout == b"2\n"
    assert box_py(code, seccomp=None).stdout == b"0\n"


def test_result_to_json_has_every_field_and_replaces_bad_bytes(box_py: BoxPy) -> None:
    r = box_py("import sys; sys.stdout.buffer.write(b'ok\\xff'); open('o', 'wb').write(b'\\xfe')",
               copy_out=["o"])
    data = r.to_json()
    assert set(data) == {f.name for f in dataclasses.fields(Result)}
    assert data["verdict"] == "OK"
    assert data["stdout"] == "ok\ufffd"
    assert data["files"] == {"o": "\ufffd"}
    assert json.loads(json.dumps(data)) == data


def test_runs_are_independent(box_py: BoxPy) -> None:
    # Nothing written by one run is visible to the next (fresh tmpfs each time).
    first = box_py("open('/box/mark', 'w').write('x'); open('/tmp/mark', 'w').write('x')")
    second = box_py("import os; print(os.path.exists('/box/mark'), os.path.exists('/tmp/mark'))")
    assert first.verdict is Verdict.OK
    assert second.stdout == b"False False\n"


def test_large_output_within_the_cap_arrives_whole() -> None:
    # Plenty of output within the cap: nothing is lost or truncated by the pipes.
    r = sandbox.run([BOX_PYTHON, "-c", "import sys; sys.stdout.write('y' * 3_000_000)"],
                    {"output": "4M"})
    assert r.verdict is Verdict.OK
    assert r.stdout == b"y" * 3_000_000
