"""Run a package's input validators on every test input at import (docs/problem-format.md).

Protocol ``icpc``: valid is exit 42 (43 invalid); ``testlib``: valid is exit 0. Each validator
compiles once; a validator that does not build, crashes otherwise or hits a limit is the
package's fault and named in the ProblemError.
"""

from __future__ import annotations

from typing import Any

import sandbox
from store.problems import ProblemError, ProblemSpec, program_files
from worker import languages
from worker.execution import (
    CompileFailure,
    Program,
    RunLimits,
    Runner,
    compile_source,
    run_program,
    sandbox_runner,
)

# Generous defaults: the package's own program is trusted to be fast, not to be tiny.
DEFAULT_TIME = 30.0
DEFAULT_MEMORY = 2 << 30
_VALID = {"icpc": 42, "testlib": 0}
_INVALID = {"icpc": 43, "testlib": 3}


def check_inputs(spec: ProblemSpec, run: Runner = sandbox_runner) -> None:
    """ProblemError naming the first test an input validator rejects (or a broken validator)."""
    limits_spec: dict[str, Any] = spec.limits or {}
    cpu = float(limits_spec.get("validation_time", DEFAULT_TIME))
    memory = int(limits_spec.get("validation_memory", DEFAULT_MEMORY))
    limits = RunLimits(cpu, memory, 1 << 20, wall=cpu * 2 + 1)
    for i, validator in enumerate(spec.input_validators, 1):
        program = _compile(run, validator, i, cpu, memory)
        protocol = str(validator.get("protocol", "testlib"))
        flags = tuple(validator.get("flags") or ())
        test_flags = validator.get("test_flags") or {}
        for index, test in enumerate(spec.tests, 1):
            name = test.name or str(index)
            args = tuple(test_flags.get(str(index), flags))
            r = run_program(run, program, limits, stdin=test.input, extra_args=args)
            said = _first_line(r)
            if (
                r.verdict is not sandbox.Verdict.OK
                and r.verdict is not sandbox.Verdict.RUNTIME_ERROR
            ):
                raise ProblemError(f"input validator {i} failed on test {name}: {r.message}")
            if r.exit_code == _VALID[protocol]:
                continue
            if protocol == "icpc" and r.exit_code != _INVALID[protocol]:
                raise ProblemError(
                    f"input validator {i} failed on test {name}: exit {r.exit_code} {said}"
                )
            raise ProblemError(f"test {name}: rejected by input validator {i}: {said}")


def _compile(run: Runner, validator: dict[str, Any], i: int, cpu: float, memory: int) -> Program:
    try:
        lang = languages.for_tool(str(validator.get("language")))
    except languages.UnknownLanguage as e:
        raise ProblemError(f"input_validators[{i}]: {e}") from None
    built, _ = compile_source(
        run,
        lang,
        str(validator.get("source", "")),
        program_files(validator),
        limits={"cpu_time": max(cpu, 60.0), "memory": max(memory, 2 << 30)},
    )
    if isinstance(built, CompileFailure):
        raise ProblemError(f"input_validators[{i}] does not compile: {built.output[:500]}")
    return built


def _first_line(r: sandbox.Result) -> str:
    for stream in (r.stderr, r.stdout):
        text = stream.decode("utf-8", "replace").strip()
        if text:
            return text.splitlines()[0][:300]
    return "(no message)"
