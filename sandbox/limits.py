"""Limits of one run, and the parsing of sizes ("64M") and durations ("1.5")."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import SandboxError

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(value: object, name: str = "size") -> int:
    """Bytes from an int or a string such as "64M", "1.5G", "512k", "100MiB"; binary units."""
    if isinstance(value, bool):
        raise SandboxError(f"{name}: expected a size such as 64M, got {value!r}")
    if isinstance(value, int):
        number = float(value)
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match:
            raise SandboxError(f"{name}: expected a size such as 64M, got {value!r}")
        number = float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    else:
        raise SandboxError(f"{name}: expected a size such as 64M, got {value!r}")
    # Whole bytes: "0.5" or 0.4 would truncate to 0, which is not a positive size.
    if not math.isfinite(number) or number < 1:
        raise SandboxError(f"{name}: must be at least one byte, got {value!r}")
    if number >= 1 << 62:
        raise SandboxError(f"{name}: too large, got {value!r}")
    return int(number)


def parse_seconds(value: object, name: str = "time") -> float:
    """Seconds from an int, float or numeric string; must be positive and finite."""
    if isinstance(value, bool):
        raise SandboxError(f"{name}: expected seconds, got {value!r}")
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SandboxError(f"{name}: expected seconds such as 1.5, got {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise SandboxError(f"{name}: must be a positive number of seconds, got {value!r}")
    if seconds > 86400 * 7:
        raise SandboxError(f"{name}: at most one week, got {value!r}")
    return seconds


def parse_count(value: object, name: str = "count") -> int:
    """A positive whole number (pids, open files)."""
    if isinstance(value, bool):
        raise SandboxError(f"{name}: expected a positive whole number, got {value!r}")
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise SandboxError(f"{name}: expected a positive whole number, got {value!r}")
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise SandboxError(f"{name}: expected a positive whole number, got {value!r}")
    if value > 1 << 30:
        raise SandboxError(f"{name}: too large, got {value!r}")
    return value


OUTPUT_OVERFLOW = ("kill", "truncate")


@dataclass(frozen=True)
class Limits:
    """What one run may use. Times in seconds, sizes in bytes (strings like "64M" accepted).

    `cpu_time` is summed over every process and thread of the box; `wall_time` defaults to
    a multiple of it so sleepers end too. `output` caps stdout and stderr, each. `disk` caps
    each writable tmpfs (/box, /tmp, /dev/shm); their pages also count against `memory`.

    `output_overflow` says what passing `output` does. "kill" (the default): the program ends
    there, OLE. "truncate" (DOMjudge's rule): it keeps running and what is past the cap is
    dropped; it is OLE only if it then ends by itself within its other limits, and stderr
    past the cap never decides a verdict. A program that floods forever is then TLE.
    """

    cpu_time: float = 2.0
    wall_time: float | None = None
    memory: int = 256 << 20
    pids: int = 64
    output: int = 16 << 20
    file_size: int = 64 << 20
    disk: int = 64 << 20
    open_files: int = 256
    stack: int = 64 << 20
    output_overflow: str = "kill"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "cpu_time", parse_seconds(self.cpu_time, "cpu_time"))
        if self.wall_time is not None:
            set_(self, "wall_time", parse_seconds(self.wall_time, "wall_time"))
        for size_name in ("memory", "output", "file_size", "disk", "stack"):
            set_(self, size_name, parse_size(getattr(self, size_name), size_name))
        set_(self, "pids", parse_count(self.pids, "pids"))
        set_(self, "open_files", parse_count(self.open_files, "open_files"))
        if self.memory < 1 << 20:
            raise SandboxError(f"memory: at least 1M, got {self.memory} bytes")
        if self.open_files < 4:
            raise SandboxError("open_files: at least 4 (stdin, stdout, stderr and one more)")
        if self.output_overflow not in OUTPUT_OVERFLOW:
            raise SandboxError(f"output_overflow: one of {', '.join(OUTPUT_OVERFLOW)}, "
                               f"got {self.output_overflow!r}")  # fmt: skip

    @property
    def effective_wall_time(self) -> float:
        """The wall limit: given, or 3x the CPU limit plus a second for startup."""
        if self.wall_time is not None:
            return self.wall_time
        return self.cpu_time * 3 + 1.0

    @classmethod
    def coerce(cls, value: Limits | Mapping[str, Any] | None) -> Limits:
        """Limits from Limits, a mapping of field names, or None (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Limits):
            return value
        if not isinstance(value, Mapping):
            raise SandboxError(f"limits: expected Limits or a mapping, got {type(value).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise SandboxError(f"limits: unknown limit {unknown[0]!r} (known: {', '.join(sorted(known))})")
        return cls(**{k: v for k, v in value.items() if v is not None})

    def with_(self, **changes: Any) -> Limits:
        return replace(self, **changes)
