"""One sandboxed run of a source with given stdin (``POST /api/runs``), no problem, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sandbox
from store.problems import parse_size
from worker import languages
from worker.execution import CompileFailure, RunLimits, Runner, compile_source, run_program
from worker.execution import sandbox_runner as _default_runner

# Ceilings for ad-hoc runs, whatever the caller asks: an open endpoint must not book the host.
MAX_CPU_TIME = 10.0
MAX_MEMORY = 1 << 30
MAX_OUTPUT = 16 << 20


@dataclass(frozen=True)
class OneShot:
    compiled: bool
    compile_output: str
    result: sandbox.Result | None  # None when compilation failed


def run_once(
    language: str,
    source: str,
    stdin: bytes | str = b"",
    limits: Mapping[str, Any] | None = None,
    *,
    run: Runner = _default_runner,
) -> OneShot:
    """Compile (in the sandbox) and run once. UnknownLanguage or ValueError for bad input;
    InternalError when the sandbox fails."""
    lang = languages.get(language)
    limits = limits or {}
    cpu = float(limits.get("cpu_time", 1.0))
    if not 0 < cpu <= MAX_CPU_TIME:
        raise ValueError(f"cpu_time: more than 0 and at most {MAX_CPU_TIME} seconds")
    memory = min(parse_size(limits.get("memory", 256 << 20)), MAX_MEMORY)
    output = min(parse_size(limits.get("output", 1 << 20)), MAX_OUTPUT)
    built, compile_output = compile_source(run, lang, source)
    if isinstance(built, CompileFailure):
        return OneShot(False, built.output, None)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = run_program(run, built, RunLimits(cpu, memory, output), stdin=data)
    return OneShot(True, compile_output, result)
