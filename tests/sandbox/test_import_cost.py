"""What `import sandbox` and a one-shot `sandbox run` load, counted in module names (not
timed: the machine is shared). A judge in another language pays for every module at every
call of the CLI (issue 20); bench/sandbox_bench.py measures the time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Modules that cost more to import than a run: none may load for `import sandbox` or for a
# one-shot CLI run of /bin/true. (dataclasses brings inspect, ast, dis and tokenize; typing,
# json, argparse and enum-heavy modules bring re; hashlib loads OpenSSL; pyseccomp is only
# for compiling a seccomp program, which is cached on disk; the ctypes package costs a
# millisecond over the _ctypes it wraps (sandbox/_ffi.py); a lock needs _thread, not
# threading.)
HEAVY = ("dataclasses", "inspect", "ast", "typing", "re", "json", "argparse", "hashlib",
         "socket", "selectors", "subprocess", "shutil", "tempfile", "pathlib",
         "importlib.resources", "ctypes", "ctypes.util", "struct", "threading", "pyseccomp",
         "queue", "atexit", "warnings", "sandbox._pool")
IMPORT_BUDGET = 4  # sandbox, sandbox.errors, __future__ (+1 of slack)
CLI_RUN_BUDGET = 60  # today 56 on Python 3.11: the run's own modules and what they need


def _new_modules(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run `code` under `python -S` (no site: only what our code imports is counted) and
    report the modules it added, and its own output."""
    probe = ("import sys\nbefore = set(sys.modules)\n" + code + "\n"
             "sys.__stdout__.write('\\nMODULES ' + ' '.join(sorted(set(sys.modules) - before))"
             " + '\\n')\n")
    proc = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    head, _, tail = proc.stdout.rpartition("\nMODULES ")
    return {"modules": set(tail.split()), "output": head, "stderr": proc.stderr}


def test_import_sandbox_loads_only_the_exceptions(host_env: dict[str, str]) -> None:
    got = _new_modules("import sandbox", host_env)["modules"]
    assert got <= {"sandbox", "sandbox.errors", "__future__"}, sorted(got)
    assert len(got) <= IMPORT_BUDGET


def test_public_names_still_load_on_use(host_env: dict[str, str]) -> None:
    got = _new_modules(
        "import sandbox\n"
        "assert sandbox.Limits(memory='64M').memory == 64 << 20\n"
        "assert sandbox.Verdict.OK.value == 'OK' and callable(sandbox.run)\n"
        "assert set(sandbox.__all__) <= set(dir(sandbox))\n"
        "from sandbox import Side, Policy, parse_size, run_interactive\n", host_env)
    assert "sandbox.limits" in got["modules"] and "sandbox.supervisor" in got["modules"]


def test_one_shot_cli_run_loads_nothing_heavy(
        host_env: dict[str, str], host_python: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    # The seccomp program must be in the disk cache first (a miss compiles with pyseccomp).
    warm = host_python("from sandbox import seccomp\n"
                       "seccomp.compile_policy(seccomp.Policy())")
    assert warm.returncode == 0, warm.stderr
    got = _new_modules("from sandbox.cli import main\n"
                       "status = main(['run', '--', '/bin/true'])\n"
                       "assert status == 0, status", host_env)
    assert "sandbox: OK " in got["stderr"]
    loaded = got["modules"]
    assert "sandbox.supervisor" in loaded  # (it did run)
    heavy = sorted(name for name in HEAVY if name in loaded)
    assert heavy == [], f"a one-shot run imported {heavy}"
    from sandbox import cgroups

    if type(cgroups.backend()).__name__ == "V2Backend":  # (v1's module is for v1 hosts)
        assert "sandbox.cgroups.v1" not in loaded
    assert len(loaded) <= CLI_RUN_BUDGET, sorted(loaded)


def test_cli_json_output_is_what_json_dumps_makes(tmp_path: Path) -> None:
    from sandbox import Result, Verdict
    from sandbox.cli import _dumps

    result = Result(Verdict.RUNTIME_ERROR, exit_code=3, cpu_time=0.125, wall_time=1e-05,
                    memory_peak=123456, stdout=b"caf\xc3\xa9 \x00\xff\n", stderr=b'"\\\t',
                    message="exit code 3 \u2028", files={"out/\u00e9.txt": b"x"})
    for value in (result.to_json(), {"first": result.to_json(), "second": {"a": [1]}}):
        assert _dumps(value) == json.dumps(value)


@pytest.mark.parametrize("argv", [
    ["run", "--", "/bin/true"],
    ["run", "--json", "--cpu-time", "1", "--memory=64M", "/bin/echo", "--json"],
    ["run", "--copy-in", "a:b", "--copy-in=c:d", "--env", "A=1", "--no-seccomp", "--", "x"],
    ["run", "--stdin", "f", "--allow-syscall", "ptrace", "--bind", "/opt", "--", "--", "y"],
    ["run"],
    ["run", "--output-overflow", "truncate", "--pids", "3", "--open-files", "9", "z", "-v"],
])
def test_quick_run_parser_agrees_with_argparse(argv: list[str]) -> None:
    from sandbox import cli

    quick = cli._quick_run_args(argv)
    assert quick is not None
    assert vars(quick) == vars(cli._parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    ["run", "--help"], ["run", "--cpu", "1", "x"], ["run", "--memory"],
    ["run", "--memory", "--json", "x"], ["run", "--json=1", "x"], ["doctor"],
    ["interact", "--", "a", "--", "b"], ["run", "-h"],
])
def test_quick_run_parser_leaves_the_rest_to_argparse(argv: list[str]) -> None:
    from sandbox import cli

    assert cli._quick_run_args(argv) is None


def test_public_classes_still_work_as_dataclasses() -> None:
    # They are hand-written now (no dataclasses import on the run path); code that treats
    # them as dataclasses keeps working.
    import copy
    import dataclasses
    import pickle

    import sandbox

    limits = sandbox.Limits(memory="64M")
    assert dataclasses.is_dataclass(limits)
    assert [f.name for f in dataclasses.fields(sandbox.Limits)][:3] == [
        "cpu_time", "wall_time", "memory"]
    changed = dataclasses.replace(limits, cpu_time=3)
    assert (changed.cpu_time, changed.memory) == (3.0, 64 << 20) and changed != limits
    assert limits == sandbox.Limits(memory=64 << 20)
    assert hash(limits) == hash(sandbox.Limits(memory=64 << 20))
    assert pickle.loads(pickle.dumps(limits)) == limits == copy.deepcopy(limits)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.cpu_time = 1.0
    result = sandbox.Result(sandbox.Verdict.OK, stdout=b"x")
    assert dataclasses.asdict(result)["stdout"] == b"x"
    assert pickle.loads(pickle.dumps(result)) == result
    assert repr(result).startswith("Result(verdict=<Verdict.OK: 'OK'>, exit_code=None,")
    assert sandbox.Result(sandbox.Verdict.OK).files == {}
    assert sandbox.Policy() == sandbox.Policy("default", frozenset())
    assert sandbox.Side(["a"]) == sandbox.Side(["a"]) != sandbox.Side(["b"])
