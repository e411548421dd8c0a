"""Bad input: a clear one-line error, exit status 2 on the CLI, sandbox.SandboxError (a
ValueError) in Python, never a traceback, and nothing left behind (the autouse guard)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sandbox
from sandbox import SandboxError

Cli = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--memory", "-5", "--", "/bin/true"], "memory"),
        (["--memory", "10Q", "--", "/bin/true"], "memory"),
        (["--memory", "0", "--", "/bin/true"], "memory"),
        (["--cpu-time", "abc", "--", "/bin/true"], "cpu_time"),
        (["--cpu-time", "-1", "--", "/bin/true"], "cpu_time"),
        (["--wall-time", "nan", "--", "/bin/true"], "wall_time"),
        (["--pids", "0", "--", "/bin/true"], "pids"),
        (["--pids", "many", "--", "/bin/true"], "pids"),
        (["--open-files", "1.5", "--", "/bin/true"], "open_files"),
        (["--output", "1X", "--", "/bin/true"], "output"),
        ([], "command"),
        (["--"], "command"),
        (["--memory", "64M"], "command"),
        (["--copy-in", "/nonexistent/file:in.txt", "--", "/bin/true"], "/nonexistent/file"),
        (["--copy-in", "{tmp}:in.txt", "--", "/bin/true"], "{tmp}"),  # a directory
        (["--copy-in", "no-colon", "--", "/bin/true"], "copy-in"),
        (["--copy-in", "{file}:../escape", "--", "/bin/true"], "escape"),
        (["--copy-out", "/etc/passwd:{tmp}/x", "--", "/bin/true"], "/etc/passwd"),
        (["--stdin", "/nonexistent/stdin", "--", "/bin/true"], "/nonexistent/stdin"),
        (["--stdin", "{tmp}", "--", "/bin/true"], "{tmp}"),  # a directory
        (["--copy-out", "x:/nonexistent/dir/x", "--", "/bin/true"], "/nonexistent/dir/x"),
        (["--copy-out", "x:{tmp}", "--", "/bin/true"], "{tmp}"),  # a directory
        (["--env", "NOVALUE", "--", "/bin/true"], "NOVALUE"),
        (["--env", "=value", "--", "/bin/true"], "env"),
        (["--bind", "relative/dir", "--", "/bin/true"], "relative/dir"),
        (["--bind", "/nonexistent/dir", "--", "/bin/true"], "/nonexistent/dir"),
        (["--allow-syscall", "no_such_syscall", "--", "/bin/true"], "no_such_syscall"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    cli: Cli, tmp_path: Path, args: list[str], mentions: str
) -> None:
    file = tmp_path / "f.txt"
    file.write_text("x")
    args = [a.format(tmp=tmp_path, file=file) for a in args]
    mentions = mentions.format(tmp=tmp_path, file=file)
    p = cli("run", *args)
    assert p.returncode == 2, p
    err = p.stderr.decode()
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    assert err.startswith("sandbox: ")
    assert mentions in err, err
    assert p.stdout == b""


@pytest.mark.parametrize(
    ("call", "mentions"),
    [
        (lambda: sandbox.run(["/bin/true"], {"memory": -5}), "memory"),
        (lambda: sandbox.run(["/bin/true"], {"memory": "10Q"}), "memory"),
        (lambda: sandbox.run(["/bin/true"], {"cpu_time": "abc"}), "cpu_time"),
        (lambda: sandbox.run(["/bin/true"], {"pids": 0}), "pids"),
        (lambda: sandbox.run(["/bin/true"], {"cpu": 1}), "cpu"),
        (lambda: sandbox.run(["/bin/true"], {"cpu_time": 1, "memroy": "1G"}), "memroy"),
        (lambda: sandbox.run(["/bin/true"], 42), "limits"),
        (lambda: sandbox.run([]), "command"),
        (lambda: sandbox.run("ls -l"), "command"),
        (lambda: sandbox.run(b"ls"), "command"),
        (lambda: sandbox.run(["/bin/echo", None]), "command"),
        (lambda: sandbox.run(["/bin/echo", "a\x00b"]), "command"),
        (lambda: sandbox.run(["/bin/true"], env={"": "x"}), "env"),
        (lambda: sandbox.run(["/bin/true"], env={"A=B": "x"}), "env"),
        (lambda: sandbox.run(["/bin/true"], env={"A\x00B": "x"}), "env"),
        (lambda: sandbox.run(["/bin/true"], env={1: "x"}), "env"),
        (lambda: sandbox.run(["/bin/true"], env={"A": 1}), "env"),
        (lambda: sandbox.run(["/bin/true"], env={"A": "x\x00y"}), "env"),
        (lambda: sandbox.run(["/bin/true"], files={"x": "/nonexistent/host/file"}),
         "/nonexistent/host/file"),
        (lambda: sandbox.run(["/bin/true"], files={"x": 3.5}), "x"),
        (lambda: sandbox.run(["/bin/true"], files={"../x": b""}), "files"),
        (lambda: sandbox.run(["/bin/true"], copy_out=["/etc/passwd"]), "copy_out"),
        (lambda: sandbox.run(["/bin/true"], stdin="/nonexistent/stdin"), "/nonexistent/stdin"),
        (lambda: sandbox.run(["/bin/true"], stdin=12), "stdin"),
        (lambda: sandbox.run(["/bin/true"], binds=["relative"]), "binds"),
        (lambda: sandbox.run(["/bin/true"], binds=["/proc"]), "/proc"),
        (lambda: sandbox.run(["/bin/true"], binds=["/nonexistent/dir"]), "/nonexistent/dir"),
        (lambda: sandbox.run(["/bin/true"], seccomp="bogus-policy"), "bogus-policy"),
        (lambda: sandbox.run(["/bin/true"], allow_syscalls=["no_such_syscall"]),
         "no_such_syscall"),
        (lambda: sandbox.run(["/bin/true"], hostname="bad host!"), "hostname"),
    ],
    ids=lambda v: "" if callable(v) else str(v),
)
def test_python_bad_input_raises_sandbox_error(call: Callable[[], Any], mentions: str) -> None:
    with pytest.raises(SandboxError) as info:
        call()
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert mentions in message, message
    assert "\n" not in message and message


def test_unknown_limit_key_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'cpu_seconds'"):
        sandbox.run(["/bin/true"], {"cpu_seconds": 1})


def test_copy_in_directory_host_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=str(tmp_path)):
        sandbox.run(["/bin/true"], files={"x": tmp_path})


def test_stdin_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=str(tmp_path)):
        sandbox.run(["/bin/true"], stdin=tmp_path)


def test_bad_input_does_not_poison_later_runs() -> None:
    for _ in range(3):
        with pytest.raises(SandboxError):
            sandbox.run(["/bin/true"], {"memory": "10Q"})
        with pytest.raises(SandboxError):
            sandbox.run(["/bin/true"], files={"x": "/nonexistent"})
    r = sandbox.run(["/bin/true"])
    assert r.verdict is sandbox.Verdict.OK

