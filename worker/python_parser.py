"""Python's syntax check through one long-lived, sandboxed parser process per worker process.

A fresh box and interpreter per submission cost ~14 ms of CPU for a check that only calls
compile(). The parser (worker/python_parser_program.py) runs the same check in a box of its own
(`sandbox.spawn`: no network, seccomp, memory and pids limits) for many submissions. It never
runs a source, so nothing a contestant sends can act through it, and it is never trusted to
decide anything it might decide differently from the per-submission box:

- any trouble with it (a crash, a hang past the compile time limit, a malformed or oversized
  answer, an exception that depends on its own state such as RecursionError or MemoryError)
  returns None: the caller runs the box check for that submission, so the contestant gets the
  box's verdict, never IE and never a guess. The parser is killed and the next check starts a
  new one;
- its limits are tighter than the box's (half the memory; an answer that took more than half
  the CPU limit is not taken), so a source near a limit is always judged by the box;
- sources it cannot lay out exactly as the box does (a path with a directory, a name that
  could shadow the check's own "<string>") go to the box.

The parser belongs to the process that started it: a forked child (Celery's prefork pool)
drops its copies of the parent's and starts its own when it first needs one. Its box dies when
this process ends in any way (the sandbox's control pipe), and at exit we end it ourselves.
JUDGE_PYTHON_PARSER=0 turns all of this off: every check runs in a box of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import select
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sandbox
from worker import metrics

log = logging.getLogger(__name__)

#: The parser's program text (tests put a misbehaving parser here).
PROGRAM = Path(__file__).with_name("python_parser_program.py").read_text(encoding="utf-8")
#: Checks per parser before it is replaced: bounds what a parser that a hostile source managed
#: to confuse could answer, and the heap a long life collects.
MAX_CHECKS = 1000
#: The parser box's CPU limit over its whole life (the kernel's RLIMIT_CPU backstop is 2 s
#: more); it is replaced when a request could take it past this.
LIFE_CPU = 300.0
MEMORY = 256 << 20  # the parser box's; the box check gets twice this or more (else no parser)
RESTART_MEMORY = 128 << 20  # a peak above this (a huge source seen): replace it after
MAX_SOURCES = 8 << 20  # bytes of sources per request; beyond, the box check
_SPAWN_BACKOFF = 60.0  # after a failed start, the box check for this long
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*\Z")


def enabled() -> bool:
    from store import env

    return env.flag("JUDGE_PYTHON_PARSER")


def command(compile_argv: tuple[str, ...]) -> list[str]:
    """The parser's argv from the language's check `(interpreter, flags..., "-c", check)`:
    the same interpreter and flags, our program as the -c text, the check as its argument."""
    return [*compile_argv[:-2], "-c", PROGRAM, compile_argv[-1]]


def box_limits() -> dict[str, Any]:
    return {
        "cpu_time": LIFE_CPU,
        "memory": MEMORY,
        "pids": 2,
        "output": 1 << 20,
        "file_size": MAX_SOURCES,
        "disk": 4 * MAX_SOURCES,
    }


class Parser:
    """One parser box and the requests it has served."""

    def __init__(self, compile_argv: tuple[str, ...]) -> None:
        self.proc = sandbox.spawn(command(compile_argv), box_limits())
        self.checks = 0
        self.stderr_tail = b""  # the parser's own complaints (a crash), for the log
        self.why = ""  # why the last `ask` got no answer
        for fd in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            os.set_blocking(fd, False)

    def ask(self, request: bytes, timeout: float, cap: int) -> bytes | None:
        """The answer's status and output, or None: no well-formed answer to this request
        (its nonce), of at most `cap` bytes of output, within `timeout` seconds (the caller
        must then close this parser)."""
        proc = self.proc
        deadline = time.monotonic() + timeout
        nonce = os.urandom(8)
        self.why = "no answer in time"
        pending = memoryview((8 + len(request)).to_bytes(4, "big") + nonce + request)
        got = bytearray()
        poller = select.poll()
        poller.register(proc.stdin, select.POLLOUT)
        poller.register(proc.stdout, select.POLLIN)
        poller.register(proc.stderr, select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for fd, event in poller.poll(max(1, int(left * 1000))):
                if fd == proc.stdin:
                    if event & (select.POLLERR | select.POLLHUP):
                        self.why = "it stopped reading"
                        return None
                    try:
                        pending = pending[os.write(fd, pending[: 1 << 20]):]
                    except BlockingIOError:
                        continue
                    except OSError:
                        self.why = "it stopped reading"
                        return None
                    if not pending:
                        poller.unregister(fd)
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if fd == proc.stderr:
                    if not chunk:
                        poller.unregister(fd)
                    self.stderr_tail = (self.stderr_tail + chunk)[-2048:]
                    continue
                if not chunk:
                    self.why = "it died"
                    return None
                got += chunk
                if len(got) >= 4:
                    need = 4 + int.from_bytes(got[:4], "big")
                    if need > 4 + 9 + cap:
                        # (The box would have stopped the check at this much output.)
                        self.why = "its answer is longer than the output limit"
                        return None
                    if len(got) > need or pending:
                        self.why = "more than one answer, or one before the question"
                        return None
                    if len(got) == need:
                        if got[4:12] == nonce and need > 12:
                            return bytes(got[12:])
                        self.why = "an answer to another question"
                        return None

    def close(self) -> None:
        self.proc.close()


def _frame(files: Mapping[str, bytes]) -> bytes:
    out = bytearray(len(files).to_bytes(4, "big"))
    for name, data in files.items():
        raw = name.encode("utf-8", "surrogateescape")
        out += len(raw).to_bytes(4, "big") + raw + len(data).to_bytes(4, "big") + data
    return bytes(out)


def _servable(files: Mapping[str, bytes], limits: Mapping[str, Any]) -> bool:
    """Whether the parser can give exactly the box's answer for these sources and limits."""
    if any(not _PLAIN_NAME.match(name) for name in files):
        return False  # a directory in the box, or "<string>" (a traceback shows its text)
    if sum(len(data) for data in files.values()) > MAX_SOURCES:
        return False
    memory = limits.get("memory")
    cpu = limits.get("cpu_time")
    if not isinstance(memory, int) or memory < 2 * MEMORY:
        return False
    return isinstance(cpu, (int, float)) and 0 < cpu <= LIFE_CPU / 2


class _State:
    """This process's parser; a forked child starts from an empty one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.parser: Parser | None = None
        self.retry_at = 0.0
        # This process's checks: answered by a parser, or sent to the box by one (or by its
        # failure); parsers started.
        self.counts = {"answered": 0, "to_box": 0, "started": 0}


_state = _State()


def check(
    compile_argv: tuple[str, ...], files: Mapping[str, bytes], limits: Mapping[str, Any]
) -> tuple[bool, bytes] | None:
    """The box check's outcome for the sources (`files`: every file of the compile box):
    (passed, what the check printed on stderr). None: ask the box (see the module docstring).
    Only one check at a time per process; another thread meanwhile uses the box."""
    if not enabled() or not _servable(files, limits):
        return None
    if not _state.lock.acquire(blocking=False):
        return None
    try:
        return _check_locked(compile_argv, files, limits)
    finally:
        _state.lock.release()


def _check_locked(
    compile_argv: tuple[str, ...], files: Mapping[str, bytes], limits: Mapping[str, Any]
) -> tuple[bool, bytes] | None:
    cpu_limit = float(limits["cpu_time"])
    parser = _state.parser
    if parser is not None and parser.proc.cpu_time() + cpu_limit >= LIFE_CPU:
        _retire("its CPU budget is nearly spent", quiet=True)
        parser = None
    if parser is None:
        if time.monotonic() < _state.retry_at:
            return None
        try:
            parser = _state.parser = Parser(compile_argv)
            _state.counts["started"] += 1
            metrics.parser_started()
        except (sandbox.SandboxError, OSError) as e:
            log.warning("python parser did not start (%s); box checks for %.0f s",
                        e, _SPAWN_BACKOFF)
            _state.retry_at = time.monotonic() + _SPAWN_BACKOFF
            return None
    request = _frame({n: d for n, d in sorted(files.items()) if n.endswith(".py")})
    cpu_before = parser.proc.cpu_time()
    answer = parser.ask(request, cpu_limit, int(limits.get("output", 1 << 20)))
    parser.checks += 1
    _state.counts["to_box"] += 1  # until it is answered below
    if answer is None:
        peak = parser.proc.memory_peak()
        _retire(f"{parser.why} (memory peak {peak >> 20} MiB of {MEMORY >> 20})")
        return None
    status, output = answer[:1], answer[1:]
    if status not in (b"0", b"1") or (status == b"1" and not output.strip()):
        _retire("the check depended on its own state" if status == b"2" else "a bad answer",
                quiet=status == b"2")
        return None
    used = parser.proc.cpu_time() - cpu_before
    if (parser.checks >= MAX_CHECKS or parser.proc.memory_peak() > RESTART_MEMORY):
        _retire("its life is over", quiet=True)
    if used > cpu_limit / 2:
        return None  # near the limit: the box decides whether it is a TLE
    _state.counts["to_box"] -= 1
    _state.counts["answered"] += 1
    return status == b"0", output


def _retire(why: str, quiet: bool = False) -> None:
    parser, _state.parser = _state.parser, None
    if parser is None:
        return
    if not quiet:
        log.warning("python parser replaced: %s; the box check decides. Its stderr: %r",
                    why, parser.stderr_tail[-300:])
    with contextlib.suppress(OSError):
        parser.close()


def shutdown() -> None:
    """End this process's parser (at exit; tests)."""
    with _state.lock:
        _retire("shutdown", quiet=True)


def counts() -> dict[str, int]:
    """This process's checks so far: answered, to_box (by a parser's answer or failure),
    and parsers started."""
    return dict(_state.counts)


def current_pids() -> list[int]:
    """Host pids of this process's parser box, [] when none (tests count processes)."""
    parser = _state.parser
    return parser.proc.pids() if parser is not None else []


def _after_fork_in_child() -> None:
    global _state
    parser = _state.parser
    _state = _State()
    if parser is not None:
        # The parent's parser is the parent's: close our copies of its fds (its control pipe
        # among them, or its box would outlive the parent while we live).
        parser.proc.forget()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown)
