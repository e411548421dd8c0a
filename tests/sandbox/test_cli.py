"""The `sandbox` CLI contract (DESIGN 3.2): output, --json, exit statuses, files, doctor."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox import Result, Verdict, cli

Cli = Callable[..., subprocess.CompletedProcess[bytes]]
PY = ["--", "/usr/bin/python3", "-c"]


def _one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.endswith("\n") and text.count("\n") == 1, text
    assert "Traceback" not in text
    return text.rstrip("\n")


def test_plain_run_passes_output_through_and_summarises(cli: Cli) -> None:
    p = cli("run", *PY, "import sys; print('out'); sys.stderr.write('err\\n')")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"out\n"
    lines = p.stderr.decode().splitlines()
    assert lines[0] == "err"
    assert len(lines) == 2 and lines[1].startswith("sandbox: OK ")
    assert "cpu=" in lines[1] and "wall=" in lines[1] and "mem=" in lines[1]


def test_json_prints_exactly_one_object_with_the_result_fields(cli: Cli) -> None:
    p = cli("run", "--json", *PY,
            "import sys; sys.stdout.buffer.write(b'hi\\xff\\n'); sys.stderr.write('e')")
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""
    text = p.stdout.decode()
    assert text.count("\n") == 1 and text.endswith("\n")
    data = json.loads(text)  # raises if there is anything besides one JSON value
    assert isinstance(data, dict)
    assert set(data) == {f.name for f in dataclasses.fields(Result)}
    assert data["verdict"] == "OK" and data["exit_code"] == 0 and data["signal"] is None
    assert data["stdout"] == "hi\ufffd\n" and data["stderr"] == "e"
    assert isinstance(data["cpu_time"], float) and isinstance(data["memory_peak"], int)
    assert data["oom_killed"] is False and data["files"] == {}


@pytest.mark.parametrize(
    ("code", "limits", "verdict"),
    [
        ("raise SystemExit(3)", [], "RE"),
        ("import os; os.abort()", [], "RE"),
        ("import time; time.sleep(5)", ["--wall-time", "0.3"], "TLE"),
        ("print('x' * 5000)", ["--output", "1000"], "OLE"),
    ],
)
def test_program_failures_exit_1(cli: Cli, code: str, limits: list[str], verdict: str) -> None:
    p = cli("run", "--json", *limits, *PY, code)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["verdict"] == verdict


@pytest.mark.parametrize(
    ("verdict", "status"),
    [(Verdict.OK, 0), (Verdict.RUNTIME_ERROR, 1), (Verdict.TIME_LIMIT, 1),
     (Verdict.MEMORY_LIMIT, 1), (Verdict.OUTPUT_LIMIT, 1), (Verdict.SECURITY_VIOLATION, 1),
     (Verdict.INTERNAL_ERROR, 2)],
)
def test_exit_status_for_every_verdict(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], verdict: Verdict,
    status: int,
) -> None:
    def fake_run(*args: object, **kwargs: object) -> Result:
        return Result(verdict, message=f"fake {verdict.value}")

    monkeypatch.setattr("sandbox.supervisor.run", fake_run)
    assert cli.main(["run", "--", "/bin/true"]) == status
    err = capsys.readouterr().err
    assert err.startswith(f"sandbox: {verdict.value} ") and err.count("\n") == 1


def test_a_real_internal_error_exits_2_without_traceback(cli: Cli) -> None:
    # More open files than the kernel allows (fs.nr_open): the box cannot be set up (IE),
    # or, better, the limit is refused up front. Either way: status 2, one line.
    p = cli("run", "--open-files", "1073741824", "--", "/bin/true")
    assert p.returncode == 2
    line = _one_line(p.stderr).lower()
    assert "rlimit" in line or "open_files" in line


def test_unexpected_exceptions_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> Result:
        raise RuntimeError("helper vanished")

    monkeypatch.setattr("sandbox.supervisor.run", broken)
    assert cli.main(["run", "--", "/bin/true"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "helper vanished" in err and "Traceback" not in err


def test_copy_in_copy_out_stdin_and_env(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "numbers.txt"
    src.write_text("40\n")
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\necho tool:$GREETING\n")
    script.chmod(0o755)
    stdin = tmp_path / "stdin.txt"
    stdin.write_text("2\n")
    result = tmp_path / "result.txt"
    code = ("import os, subprocess, sys\n"
            "total = int(open('data/n.txt').read()) + int(sys.stdin.read())\n"
            "tool = subprocess.run(['./bin/tool.sh'], capture_output=True, text=True).stdout\n"
            "os.makedirs('out')\n"
            "open('out/r.txt', 'w').write(f'{total} {tool}{os.environ[\"EXTRA\"]}')\n")
    p = cli("run", "--copy-in", f"{src}:data/n.txt", "--copy-in", f"{script}:/box/bin/tool.sh",
            "--copy-out", f"out/r.txt:{result}", "--stdin", str(stdin),
            "--env", "GREETING=hello world", "--env", "EXTRA=a=b", *PY, code)
    assert p.returncode == 0, p.stderr
    assert result.read_text() == "42 tool:hello world\na=b"


def test_refused_or_missing_copy_out_writes_no_host_file(cli: Cli, tmp_path: Path) -> None:
    link_target = tmp_path / "link.out"
    missing_target = tmp_path / "missing.out"
    p = cli("run", "--copy-out", f"link:{link_target}", "--copy-out", f"nope:{missing_target}",
            *PY, "import os; os.symlink('/etc/passwd', 'link')")
    assert p.returncode == 0, p.stderr
    assert not link_target.exists() and not missing_target.exists()
    summary = p.stderr.decode().splitlines()[-1]
    assert "link" in summary and "nope" in summary


def test_arguments_after_the_double_dash_belong_to_the_program(cli: Cli) -> None:
    p = cli("run", "--", "/bin/echo", "--json", "--memory", "-5")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"--json --memory -5\n"


def test_limit_flags_reach_the_box(cli: Cli) -> None:
    p = cli("run", "--json", "--open-files", "33", "--pids", "9", "--stack", "4M", *PY,
            "import resource as r; print(r.getrlimit(r.RLIMIT_NOFILE)[0], "
            "r.getrlimit(r.RLIMIT_STACK)[0])")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["stdout"] == f"33 {4 << 20}\n"


def test_help_and_usage_errors(cli: Cli) -> None:
    assert cli("--help").returncode == 0
    assert cli("run", "--help").returncode == 0
    for args in ((), ("frobnicate",), ("run", "--memory"), ("run", "--no-such-flag", "--", "x"),
                 ("run", "--copy-out", "fb/:/tmp/x", "--", "/bin/true")):
        p = cli(*args)
        assert p.returncode == 2, args
        assert _one_line(p.stderr).startswith("sandbox"), args
        assert p.stdout == b"", args


def test_doctor_exits_0_and_prints_each_check(cli: Cli) -> None:
    p = cli("doctor")
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.decode().splitlines()
    checks = {line[4:].strip().split(":")[0] for line in lines}
    assert {"kernel", "root", "user namespaces", "cgroups", "seccomp", "native helper",
            "exec confinement", "smoke run"} <= checks
    assert all(line.startswith("ok") for line in lines), lines
    confinement = next(line for line in lines if "exec confinement" in line)
    from sandbox import _exec_paths

    assert ("Landlock ABI" in confinement) == _exec_paths.supported(), confinement


def test_doctor_json(cli: Cli) -> None:
    p = cli("doctor", "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert rows and all(row["ok"] is True and row["check"] and "detail" in row for row in rows)
    cgroup_row = next(row for row in rows if row["check"] == "cgroups")
    assert json.loads(cgroup_row["detail"])["version"] in (1, 2)


def test_doctor_leaves_its_process_as_it_found_it(host_python: Callable[..., Any]) -> None:
    # `judge up` runs doctor.report() in its supervisor, which never runs a box: the smoke
    # run must leave it no zygote, no warm boxes (processes, cgroups) and no pool thread.
    p = host_python(
        "import glob, json, os, threading\n"
        "from pathlib import Path\n"
        "from sandbox import _pool, _spawn, doctor\n"
        "rows = doctor.report()\n"
        "kids = [k for t in Path('/proc/self/task').glob('*')\n"
        "        for k in (t / 'children').read_text().split()]\n"
        "print(json.dumps({'ok': all(r['ok'] for r in rows), 'children': kids,\n"
        "    'threads': [t.name for t in threading.enumerate()],\n"
        "    'zygote': _spawn.zygote_pid(), 'prepared': len(_pool.prepared()),\n"
        "    'cgroups': glob.glob(f'/sys/fs/cgroup/**/box-{os.getpid()}-*', recursive=True)}))\n"
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"ok": True, "children": [], "threads": ["MainThread"],
                                    "zygote": 0, "prepared": 0, "cgroups": []}
