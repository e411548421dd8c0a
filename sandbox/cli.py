"""`sandbox run` and `sandbox doctor`. Exit status: 0 OK, 1 the program failed, 2 internal error
or bad usage (one line on stderr, never a traceback)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .errors import SandboxError
from .limits import Limits
from .result import Result, Verdict


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"sandbox: {message}\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sandbox", description="Run untrusted code under strict limits.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run one command in a fresh box")
    run.add_argument("--cpu-time", metavar="S")
    run.add_argument("--wall-time", metavar="S")
    run.add_argument("--memory", metavar="SIZE")
    run.add_argument("--pids", metavar="N")
    run.add_argument("--output", metavar="SIZE")
    run.add_argument("--file-size", metavar="SIZE")
    run.add_argument("--disk", metavar="SIZE")
    run.add_argument("--open-files", metavar="N")
    run.add_argument("--stack", metavar="SIZE")
    run.add_argument("--stdin", metavar="FILE")
    run.add_argument("--copy-in", metavar="HOST:BOX", action="append", default=[])
    run.add_argument("--copy-out", metavar="BOX:HOST", action="append", default=[])
    run.add_argument("--env", metavar="NAME=VALUE", action="append", default=[])
    run.add_argument("--bind", metavar="DIR", action="append", default=[],
                     help="extra read-only host directory (toolchains outside /usr)")
    run.add_argument("--no-seccomp", action="store_true", help="run without the seccomp filter")
    run.add_argument("--allow-syscall", metavar="NAME", action="append", default=[])
    run.add_argument("--json", action="store_true", help="print the result as one JSON object")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG...]")
    doctor = sub.add_parser("doctor", help="what this host supports")
    doctor.add_argument("--json", action="store_true")
    return parser


def _split_pair(value: str, what: str) -> tuple[str, str]:
    left, sep, right = value.rpartition(":")
    if not sep or not left or not right:
        raise SandboxError(f"{what}: expected A:B, got {value!r}")
    return left, right


def _limits(args: argparse.Namespace) -> Limits:
    names = ("cpu_time", "wall_time", "memory", "pids", "output", "file_size", "disk",
             "open_files", "stack")
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    return Limits.coerce(given)


def _run(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise SandboxError("missing command: sandbox run [OPTIONS] -- COMMAND [ARG...]")
    limits = _limits(args)
    files: dict[str, str] = {}
    for spec in args.copy_in:
        host, box = _split_pair(spec, "--copy-in")
        if not os.path.isfile(host) or not os.access(host, os.R_OK):
            raise SandboxError(f"--copy-in: cannot read {host}")
        files[box] = host
    outs = [_split_pair(spec, "--copy-out") for spec in args.copy_out]
    env: dict[str, str] = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SandboxError(f"--env: expected NAME=VALUE, got {item!r}")
        env[name] = value
    if args.stdin is not None and not os.access(args.stdin, os.R_OK):
        raise SandboxError(f"--stdin: cannot read {args.stdin}")
    from .supervisor import run

    result = run(argv, limits, stdin=args.stdin, files=files, copy_out=[b for b, _ in outs],
                 env=env, binds=args.bind, seccomp=None if args.no_seccomp else "default",
                 allow_syscalls=args.allow_syscall)
    for box, host in outs:
        if box in result.files:
            with open(host, "wb") as handle:
                handle.write(result.files[box])
    _print_result(result, args.json)
    if result.verdict is Verdict.OK:
        return 0
    return 2 if result.verdict is Verdict.INTERNAL_ERROR else 1


def _print_result(result: Result, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json()))
        return
    sys.stdout.buffer.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(result.stderr)
    summary = (f"{result.verdict.value} cpu={result.cpu_time:.3f}s wall={result.wall_time:.3f}s "
               f"mem={result.memory_peak / (1 << 20):.1f}MiB")
    if result.message:
        summary += f" ({result.message})"
    sys.stderr.write(f"sandbox: {summary}\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "doctor":
            from .doctor import main as doctor_main

            return doctor_main(as_json=args.json)
        return _run(args)
    except SandboxError as exc:
        sys.stderr.write(f"sandbox: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("sandbox: interrupted\n")
        return 2
    except Exception as exc:  # never a traceback for the user; the message names the cause
        sys.stderr.write(f"sandbox: internal error: {type(exc).__name__}: {exc}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
