"""The outcome of one run: a verdict with the measurements behind it."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


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


@dataclass
class Result:
    verdict: Verdict
    exit_code: int | None = None
    signal: int | None = None
    cpu_time: float = 0.0
    wall_time: float = 0.0
    memory_peak: int = 0
    oom_killed: bool = False
    stdout: bytes = b""
    stderr: bytes = b""
    message: str = ""
    blocked_syscall: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; bytes become text with undecodable bytes replaced."""
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["stdout"] = self.stdout.decode("utf-8", "replace")
        data["stderr"] = self.stderr.decode("utf-8", "replace")
        data["files"] = {k: v.decode("utf-8", "replace") for k, v in self.files.items()}
        return data
