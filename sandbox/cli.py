"""`sandbox run` and `sandbox doctor`. Exit status: 0 OK, 1 the program failed, 2 internal error
or bad usage (one line on stderr, never a traceback).

A judge in another language calls `sandbox run` once per test, so its cost is the
interpreter's start plus one run: the common forms of `run` are parsed by hand (argparse and
json cost more to import than a run takes), anything else goes through argparse, and the run
is one-shot (no zygote, no warm boxes: nothing is kept for a next run in this process).
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import SimpleNamespace

from .errors import SandboxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, NoReturn

    from .limits import Limits
    from .result import Result

    Args = argparse.Namespace | SimpleNamespace


def _add_box_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--cpu-time", metavar="S")
    cmd.add_argument("--wall-time", metavar="S")
    cmd.add_argument("--memory", metavar="SIZE")
    cmd.add_argument("--pids", metavar="N")
    cmd.add_argument("--output", metavar="SIZE")
    cmd.add_argument("--file-size", metavar="SIZE")
    cmd.add_argument("--disk", metavar="SIZE")
    cmd.add_argument("--open-files", metavar="N")
    cmd.add_argument("--stack", metavar="SIZE")
    cmd.add_argument("--output-overflow", metavar="kill|truncate",
                     help="past --output: end the program (kill, the default) or drop the rest")
    cmd.add_argument("--copy-in", metavar="HOST:BOX", action="append", default=[])
    cmd.add_argument("--copy-out", metavar="BOX:HOST", action="append", default=[])
    cmd.add_argument("--env", metavar="NAME=VALUE", action="append", default=[])
    cmd.add_argument("--bind", metavar="DIR", action="append", default=[],
                     help="extra read-only host directory (toolchains outside /usr)")
    cmd.add_argument("--no-seccomp", action="store_true", help="run without the seccomp filter")
    cmd.add_argument("--allow-syscall", metavar="NAME", action="append", default=[])
    cmd.add_argument("--json", action="store_true", help="print the result as one JSON object")


def _parser() -> argparse.ArgumentParser:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            sys.stderr.write(f"sandbox: {message}\n")
            raise SystemExit(2)

    parser = _Parser(prog="sandbox", description="Run untrusted code under strict limits.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run one command in a fresh box")
    _add_box_options(run)
    run.add_argument("--stdin", metavar="FILE")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG...]")
    interact = sub.add_parser(
        "interact", help="run two commands in two boxes, each one's stdout the other's stdin",
        description="Options give the limits of both boxes; copy-in files go to both.")
    _add_box_options(interact)
    interact.add_argument("--grace", metavar="S", type=float, default=0.5,
                          help="how long one side may outlive the other (default 0.5)")
    interact.add_argument("argv", nargs=argparse.REMAINDER,
                          metavar="-- FIRST [ARG...] -- SECOND [ARG...]")
    doctor = sub.add_parser("doctor", help="what this host supports")
    doctor.add_argument("--json", action="store_true")
    serve = sub.add_parser(
        "serve", help="answer runs on a Unix socket (JSON lines) with warm boxes",
        description="One JSON request per line, one JSON answer per line (see "
                    "sandbox/serve.py); for callers in other languages that make many runs.")
    serve.add_argument("--socket", metavar="PATH", required=True)
    serve.add_argument("--mode", metavar="OCTAL", default="600",
                       help="the socket's permissions (default 600: its owner only)")
    serve.add_argument("--bind", metavar="DIR", action="append", default=[],
                       help="extra read-only host directory in every box")
    return parser


def _serve(args: Args) -> int:
    import signal

    from . import serve

    mode = int(args.mode, 8) if args.mode.isdigit() and set(args.mode) <= set("01234567") else -1
    if not 0 <= mode <= 0o777:
        raise SandboxError(f"--mode: expected octal permissions such as 600, got {args.mode!r}")
    binds = serve.checked_binds(args.bind)
    listener = serve.listen(args.socket, mode)
    # SIGTERM ends the server as Ctrl-C does: the socket is removed, warm boxes torn down.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        sys.stderr.write(f"sandbox: serving on {args.socket}\n")
        serve.serve(listener, binds)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(args.socket)
    return 0


# `run`'s options for the hand parser: (attribute, takes a value, repeatable). It must give
# exactly what argparse gives, or step aside: anything it does not know exactly (help,
# abbreviations, a value that looks like an option, a missing value) goes to argparse.
_RUN_OPTIONS: dict[str, tuple[str, bool, bool]] = {
    **{f"--{name.replace('_', '-')}": (name, True, False) for name in (
        "cpu_time", "wall_time", "memory", "pids", "output", "file_size", "disk",
        "open_files", "stack", "output_overflow", "stdin")},
    **{f"--{name.replace('_', '-')}": (name, True, True) for name in (
        "copy_in", "copy_out", "env", "bind", "allow_syscall")},
    "--no-seccomp": ("no_seccomp", False, False),
    "--json": ("json", False, False),
}


def _quick_run_args(argv: Sequence[str]) -> SimpleNamespace | None:
    """`sandbox run ...` parsed as argparse would, or None to let argparse do it."""
    if not argv or argv[0] != "run":
        return None
    values: dict[str, Any] = {name: ([] if many else (False if not takes else None))
                              for name, takes, many in _RUN_OPTIONS.values()}
    index = 1
    while index < len(argv):
        token = argv[index]
        if token == "--" or not token.startswith("-"):
            break  # the command (argparse.REMAINDER keeps a leading "--")
        option, eq, value = token.partition("=")
        spec = _RUN_OPTIONS.get(option)
        if spec is None:
            return None
        name, takes, many = spec
        if not takes:
            if eq:
                return None
            values[name] = True
        else:
            if not eq:
                index += 1
                if index >= len(argv) or argv[index].startswith("-"):
                    return None
                value = argv[index]
            if many:
                values[name].append(value)
            else:
                values[name] = value
        index += 1
    return SimpleNamespace(command="run", argv=list(argv[index:]), **values)


def _split_pair(value: str, what: str) -> tuple[str, str]:
    left, sep, right = value.rpartition(":")
    if not sep or not left or not right:
        raise SandboxError(f"{what}: expected A:B, got {value!r}")
    return left, right


def _limits(args: Args) -> Limits:
    from .limits import Limits

    names = ("cpu_time", "wall_time", "memory", "pids", "output", "file_size", "disk",
             "open_files", "stack", "output_overflow")
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    return Limits.coerce(given)


def _box_kwargs(args: Args) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The keyword arguments of sandbox.run shared by `run` and `interact`, and copy-outs."""
    files: dict[str, str] = {}
    for spec in args.copy_in:
        host, box = _split_pair(spec, "--copy-in")
        if not os.path.isfile(host) or not os.access(host, os.R_OK):
            raise SandboxError(f"--copy-in: cannot read {host}")
        files[box] = host
    outs = [_split_pair(spec, "--copy-out") for spec in args.copy_out]
    for box, host in outs:
        if box.endswith("/"):
            raise SandboxError(f"--copy-out: {box} is a directory; name a file")
        # Checked before the run: a bad destination is bad usage, not an internal error
        # after the program already ran.
        directory = os.path.dirname(os.path.abspath(host))
        if os.path.isdir(host) or not os.path.isdir(directory) or not os.access(
                directory, os.W_OK):
            raise SandboxError(f"--copy-out: cannot write {host}")
    env: dict[str, str] = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SandboxError(f"--env: expected NAME=VALUE, got {item!r}")
        env[name] = value
    kwargs: dict[str, Any] = {
        "limits": _limits(args), "files": files, "copy_out": [b for b, _ in outs], "env": env,
        "binds": args.bind, "seccomp": None if args.no_seccomp else "default",
        "allow_syscalls": args.allow_syscall}
    return kwargs, outs


def _write_outs(result: Result, outs: list[tuple[str, str]]) -> None:
    for box, host in outs:
        if box in result.files:
            with open(host, "wb") as handle:
                handle.write(result.files[box])


def _exit_status(results: Sequence[Result]) -> int:
    from .result import Verdict

    if any(r.verdict is Verdict.INTERNAL_ERROR for r in results):
        return 2
    return 0 if all(r.verdict is Verdict.OK for r in results) else 1


def _run(args: Args) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise SandboxError("missing command: sandbox run [OPTIONS] -- COMMAND [ARG...]")
    kwargs, outs = _box_kwargs(args)
    if args.stdin is not None and (os.path.isdir(args.stdin)
                                   or not os.access(args.stdin, os.R_OK)):
        raise SandboxError(f"--stdin: cannot read {args.stdin}")
    from .supervisor import run

    result = run(argv, stdin=args.stdin, **kwargs)
    _write_outs(result, outs)
    _print_result(result, args.json)
    return _exit_status([result])


def _interact(args: Args) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if "--" not in argv:
        raise SandboxError("usage: sandbox interact [OPTIONS] -- FIRST [ARG...] -- SECOND [ARG...]")
    split = argv.index("--")
    first, second = argv[:split], argv[split + 1:]
    if not first or not second:
        raise SandboxError("missing command: both FIRST and SECOND are needed")
    kwargs, outs = _box_kwargs(args)
    from .supervisor import Side, run_interactive

    results = run_interactive(Side(first, **kwargs), Side(second, **kwargs), grace=args.grace)
    for result in results:
        _write_outs(result, outs)
    if args.json:
        print(_dumps({"first": results[0].to_json(), "second": results[1].to_json()}))
    else:
        for label, result in zip(("first", "second"), results, strict=True):
            sys.stderr.buffer.write(result.stderr)
            sys.stderr.write(f"sandbox: {label}: {_summary(result)}\n")
    return _exit_status(results)


def _print_result(result: Result, as_json: bool) -> None:
    if as_json:
        print(_dumps(result.to_json()))
        return
    sys.stdout.buffer.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(result.stderr)
    sys.stderr.write(f"sandbox: {_summary(result)}\n")


def _summary(result: Result) -> str:
    summary = (f"{result.verdict.value} cpu={result.cpu_time:.3f}s wall={result.wall_time:.3f}s "
               f"mem={result.memory_peak / (1 << 20):.1f}MiB")
    if result.message:
        summary += f" ({result.message})"
    return summary


def _dumps(value: object) -> str:
    """json.dumps(value) for the Result's JSON (dicts, str, int, float, bool, None): the same
    text, without importing json (and re, which it compiles patterns with)."""
    from _json import encode_basestring_ascii as text

    if isinstance(value, dict):
        return "{" + ", ".join(f"{_dumps(k) if isinstance(k, str) else _dumps(str(k))}: "
                               f"{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return str(text(value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value == value
                                  and value not in (float("inf"), float("-inf"))):
        return repr(value)
    import json

    return json.dumps(value)


def main(argv: Sequence[str] | None = None) -> int:
    # One run per process: a zygote or boxes prepared for a next run would only be torn
    # down at exit. (Scoped to this call: main() may run in a process that goes on.)
    from ._spawn import one_shot

    args = sys.argv[1:] if argv is None else argv
    with one_shot():
        status = _main(args)
    if argv is None and args[:1] in (["run"], ["interact"]):
        _exit_now(status)
    return status


def _exit_now(status: int) -> None:
    """As the `sandbox run` command: leave without the interpreter's teardown (a millisecond
    or two of freeing modules). Everything of the run is released already: the box, its
    cgroup and helper are gone when run() returns (one-shot: no warm box, no zygote, no
    atexit work), and the kernel drops our slot locks."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a closed or broken stdout: Python's own exit reports it
    os._exit(status)


def _main(argv: Sequence[str]) -> int:
    args: Args | None = _quick_run_args(argv)
    if args is None:
        args = _parser().parse_args(argv)
    try:
        if args.command == "doctor":
            from .doctor import main as doctor_main

            return doctor_main(as_json=args.json)
        if args.command == "interact":
            return _interact(args)
        if args.command == "serve":
            return _serve(args)
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
