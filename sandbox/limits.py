"""Limits of one run, and the parsing of sizes ("64M") and durations ("1.5")."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._record import FrozenRecord
from .errors import SandboxError

TYPE_CHECKING = False  # (typing and re stay unimported: the one-shot CLI pays for each module)
if TYPE_CHECKING:
    from typing import Any, ClassVar

_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_DIGITS = frozenset("0123456789")


def _size_number(text: str) -> float | None:
    """The bytes in "64M", "1.5 GiB", "512kb": digits[.digits], optional spaces, an optional
    binary unit k/m/g/t (any case), then an optional "i" and "b"; None if it is not that."""
    text = text.strip()
    lower = text.lower()
    end = len(lower)
    for suffix in ("b", "i"):  # "ib", "b", "i" or nothing, in that order from the end
        if end and lower[end - 1] == suffix:
            end -= 1
    unit = ""
    if end and lower[end - 1] in "kmgt":
        unit = lower[end - 1]
        end -= 1
    number = lower[:end].rstrip()
    whole, dot, fraction = number.partition(".")
    if not whole or not set(whole) <= _DIGITS or (dot and (
            not fraction or not set(fraction) <= _DIGITS)):
        return None
    return float(number) * _SIZE_UNITS[unit]


def parse_size(value: object, name: str = "size") -> int:
    """Bytes from an int or a string such as "64M", "1.5G", "512k", "100MiB"; binary units."""
    if isinstance(value, bool):
        raise SandboxError(f"{name}: expected a size such as 64M, got {value!r}")
    if isinstance(value, int):
        number = float(value)
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        parsed = _size_number(value)
        if parsed is None:
            raise SandboxError(f"{name}: expected a size such as 64M, got {value!r}")
        number = parsed
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


class Limits(FrozenRecord):
    """What one run may use. Times in seconds, sizes in bytes (strings like "64M" accepted).

    `cpu_time` is summed over every process and thread of the box; `wall_time` defaults to
    a multiple of it so sleepers end too. `output` caps stdout and stderr, each. `disk` caps
    each writable tmpfs (/box, /tmp, /dev/shm); their pages also count against `memory`.

    `output_overflow` says what passing `output` does. "kill" (the default): the program ends
    there, OLE. "truncate" (DOMjudge's rule): it keeps running and what is past the cap is
    dropped; it is OLE only if it then ends by itself within its other limits, and stderr
    past the cap never decides a verdict. A program that floods forever is then TLE.
    """

    cpu_time: float
    wall_time: float | None
    memory: int
    pids: int
    output: int
    file_size: int
    disk: int
    open_files: int
    stack: int
    output_overflow: str

    _fields = ("cpu_time", "wall_time", "memory", "pids", "output", "file_size", "disk",
               "open_files", "stack", "output_overflow")
    _defaults: ClassVar[dict[str, Any]] = {
        "cpu_time": 2.0, "wall_time": None, "memory": 256 << 20, "pids": 64,
        "output": 16 << 20, "file_size": 64 << 20, "disk": 64 << 20, "open_files": 256,
        "stack": 64 << 20, "output_overflow": "kill"}

    def __init__(self, cpu_time: float | str = 2.0, wall_time: float | str | None = None,
                 memory: int | str = 256 << 20, pids: int | str = 64,
                 output: int | str = 16 << 20, file_size: int | str = 64 << 20,
                 disk: int | str = 64 << 20, open_files: int | str = 256,
                 stack: int | str = 64 << 20, output_overflow: str = "kill") -> None:
        self._init(
            cpu_time=parse_seconds(cpu_time, "cpu_time"),
            wall_time=None if wall_time is None else parse_seconds(wall_time, "wall_time"),
            memory=parse_size(memory, "memory"), pids=parse_count(pids, "pids"),
            output=parse_size(output, "output"), file_size=parse_size(file_size, "file_size"),
            disk=parse_size(disk, "disk"), open_files=parse_count(open_files, "open_files"),
            stack=parse_size(stack, "stack"), output_overflow=output_overflow)
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
        known = set(cls._fields)
        unknown = sorted(set(value) - known)
        if unknown:
            raise SandboxError(f"limits: unknown limit {unknown[0]!r} (known: {', '.join(sorted(known))})")
        return cls(**{k: v for k, v in value.items() if v is not None})

    def with_(self, **changes: Any) -> Limits:
        unknown = sorted(set(changes) - set(self._fields))
        if unknown:
            raise TypeError(f"Limits: unknown field {unknown[0]!r}")
        return Limits(**{**{name: getattr(self, name) for name in self._fields}, **changes})
