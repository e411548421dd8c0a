"""The outcome of one run: a verdict with the measurements behind it."""

from __future__ import annotations

import enum

from ._record import Record

TYPE_CHECKING = False  # (typing imports re: the one-shot CLI pays for every module)
if TYPE_CHECKING:
    from typing import Any, ClassVar


class Verdict(enum.StrEnum):
    OK = "OK"
    RUNTIME_ERROR = "RE"
    TIME_LIMIT = "TLE"
    MEMORY_LIMIT = "MLE"
    OUTPUT_LIMIT = "OLE"
    SECURITY_VIOLATION = "SV"
    INTERNAL_ERROR = "IE"


# When several limits hit at once, the first of these wins (DESIGN 3.1).
PRECEDENCE: tuple[Verdict, ...] = (
    Verdict.INTERNAL_ERROR,
    Verdict.TIME_LIMIT,
    Verdict.MEMORY_LIMIT,
    Verdict.OUTPUT_LIMIT,
    Verdict.SECURITY_VIOLATION,
    Verdict.RUNTIME_ERROR,
)


class Result(Record):
    verdict: Verdict
    exit_code: int | None
    signal: int | None
    cpu_time: float
    wall_time: float
    memory_peak: int
    oom_killed: bool
    stdout: bytes
    stderr: bytes
    message: str
    blocked_syscall: str | None
    files: dict[str, bytes]

    _fields = ("verdict", "exit_code", "signal", "cpu_time", "wall_time", "memory_peak",
               "oom_killed", "stdout", "stderr", "message", "blocked_syscall", "files")
    _defaults: ClassVar[dict[str, Any]] = {
        "exit_code": None, "signal": None, "cpu_time": 0.0, "wall_time": 0.0,
        "memory_peak": 0, "oom_killed": False, "stdout": b"", "stderr": b"", "message": "",
        "blocked_syscall": None, "files": dict}
    _factories = frozenset({"files"})

    def __init__(self, verdict: Verdict, exit_code: int | None = None,
                 signal: int | None = None, cpu_time: float = 0.0, wall_time: float = 0.0,
                 memory_peak: int = 0, oom_killed: bool = False, stdout: bytes = b"",
                 stderr: bytes = b"", message: str = "", blocked_syscall: str | None = None,
                 files: dict[str, bytes] | None = None) -> None:
        self.verdict = verdict
        self.exit_code = exit_code
        self.signal = signal
        self.cpu_time = cpu_time
        self.wall_time = wall_time
        self.memory_peak = memory_peak
        self.oom_killed = oom_killed
        self.stdout = stdout
        self.stderr = stderr
        self.message = message
        self.blocked_syscall = blocked_syscall
        self.files = {} if files is None else files

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; bytes become text with undecodable bytes replaced."""
        data = {name: getattr(self, name) for name in self._fields}
        data["verdict"] = self.verdict.value
        data["stdout"] = self.stdout.decode("utf-8", "replace")
        data["stderr"] = self.stderr.decode("utf-8", "replace")
        data["files"] = {k: v.decode("utf-8", "replace") for k, v in self.files.items()}
        return data
