"""Compile and run programs in the sandbox; the only module that calls ``sandbox.run``.

Compilation happens once: its artifacts are copied out of the compile box and copied into each
run box, so tests never pay for compilation and never see the compiler's leftovers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import sandbox
from store.vocab import Verdict
from worker import metrics, python_parser
from worker.errors import InternalError
from worker.languages import Language, named_in

COMPILE_OUTPUT_LIMIT = 64 << 10  # characters of compiler messages kept for the submitter


class Runner(Protocol):
    """The shape of ``sandbox.run``; tests of the pipeline's error paths pass their own."""

    def __call__(
        self,
        cmd: list[str],
        limits: Mapping[str, Any] | None = None,
        *,
        stdin: bytes | None = None,
        files: Mapping[str, bytes] | None = None,
        executables: Iterable[str] = (),
        copy_out: Iterable[str] = (),
        binds: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> sandbox.Result: ...


def sandbox_runner(
    cmd: list[str],
    limits: Mapping[str, Any] | None = None,
    *,
    stdin: bytes | None = None,
    files: Mapping[str, bytes] | None = None,
    executables: Iterable[str] = (),
    copy_out: Iterable[str] = (),
    binds: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> sandbox.Result:
    result = sandbox.run(
        cmd,
        limits,
        stdin=stdin,
        files=files,
        executables=executables,
        copy_out=copy_out,
        binds=binds,
        env=env,
    )
    metrics.sandbox_run(result.verdict.value, result.wall_time, result.cpu_time, result.oom_killed)
    return result


def run_safely(run: Runner, cmd: list[str], limits: Mapping[str, Any], **kw: Any) -> sandbox.Result:
    """One sandboxed run; a failure of the sandbox itself is InternalError, never a verdict."""
    try:
        result = run(cmd, limits, **kw)
    except sandbox.SandboxError as e:
        raise InternalError(f"sandbox refused the run: {e}") from e
    except OSError as e:
        raise InternalError(f"sandbox failed: {e}") from e
    if result.verdict is sandbox.Verdict.INTERNAL_ERROR:
        raise InternalError(f"sandbox internal error: {result.message or 'no details'}")
    return result


@dataclass(frozen=True)
class Program:
    """A compiled (or ready-to-interpret) program: the files its run box needs, and its argv."""

    language: Language
    files: Mapping[str, bytes]

    def command(self, memory_limit: int) -> list[str]:
        return self.language.run_command(memory_limit)


@dataclass(frozen=True)
class CompileFailure:
    output: str  # the compiler's messages, capped, for the submitter


def _compiler_output(r: sandbox.Result) -> str:
    stopped = r.verdict is not sandbox.Verdict.OK and r.verdict is not sandbox.Verdict.RUNTIME_ERROR
    return _output_text(r.stdout + r.stderr, r.message if stopped else None)


def _output_text(raw: bytes, stopped: str | None) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if stopped is not None:
        text = f"{text}\n[compiler stopped: {stopped}]".strip()
    if len(text) > COMPILE_OUTPUT_LIMIT:
        text = text[:COMPILE_OUTPUT_LIMIT] + "\n[... output truncated]"
    return text


def compile_source(
    run: Runner,
    lang: Language,
    source: str | bytes,
    files: Mapping[str, bytes] | None = None,
    *,
    limits: Mapping[str, Any] | None = None,
) -> tuple[Program | CompileFailure, str]:
    """Compile once in the sandbox: (the program or the failure, the compiler's output).

    ``files`` go beside the source (headers such as testlib.h, the other files of a multi-file
    submission, data a checker reads) in the compile box and in every run box; ``limits``
    override the language's compile limits (a package's compile time and memory)."""
    src = source.encode() if isinstance(source, str) else source
    beside = {k: v for k, v in (files or {}).items() if k != lang.source}
    if lang.compile is None:
        return Program(lang, {**beside, lang.source: src}), ""
    box_limits = {**lang.compile_limits, **(limits or {})}
    if lang.parser and run is sandbox_runner:
        # (Only with the real sandbox: a test's own runner sees every compile, as before.)
        said = python_parser.check(lang.compile, {**beside, lang.source: src}, box_limits)
        if said is not None and said[0]:
            metrics.syntax_check("parser")
            return Program(lang, {**beside, lang.source: src}), ""
        metrics.syntax_check("sandbox")
        # A failed check is confirmed in a box of its own, and only the box's words reach the
        # user: the parser serves every submitter of this process in turn, and a source that
        # found a hole in compile() must not be able to make it print another's source as a
        # compile error. CE is the rare case; the box costs it ~13 ms.
    r = run_safely(
        run,
        list(lang.compile),
        box_limits,
        files={**beside, lang.source: src},
        copy_out=lang.artifacts,
        binds=lang.binds,
        env=dict(lang.compile_env) or None,
    )
    output = _compiler_output(r)
    if r.verdict is not sandbox.Verdict.OK or r.exit_code != 0:
        return CompileFailure(output or f"compilation failed: {r.message}"), output
    if not lang.artifacts:
        # A syntax check that passed has nothing to say ("Syntax OK"): keep the page quiet.
        return Program(lang, {**beside, lang.source: src}), ""
    built = lang.artifacts_in(r.files)
    missing = [a for a in lang.artifacts if not any(named_in((a,), n) for n in built)]
    if missing:
        return CompileFailure(
            f"{output}\ncompiler produced no {', '.join(missing)}".strip()
        ), output
    # Data files stay beside the binary (a checker may open them); sources need not. A
    # directory artifact (a build's whole directory) holds them already.
    whole = any(a.endswith("/") for a in lang.artifacts)
    return Program(lang, {**({} if whole else beside), **built}), output


@dataclass(frozen=True)
class RunLimits:
    cpu_time: float
    memory: int
    output: int
    wall: float | None = None  # None: the default policy below
    #: Output past ``output``: "kill" (OLE at once) or "truncate" (DOMjudge's rule: dropped,
    #: OLE only if the program then ends by itself; a flood that never ends is TLE).
    overflow: str = "kill"

    def wall_time(self) -> float:
        """The package's wall limit, else 1.5 x the CPU limit + 1 s.

        CPU time is the limit that judges; the wall limit only ends programs that wait (a
        sleeper, a read that never returns). With one box per core, a program's wall time
        tracks its CPU time closely, so 1.5 x + 1 s keeps a correct solution clear of it on
        a busy host while a 10 s sleeper cannot pass a 5 s problem (it did at 3 x + 1 s).
        """
        if self.wall is not None:
            return self.wall
        return self.cpu_time * 1.5 + 1

    def for_sandbox(self, lang: Language) -> dict[str, Any]:
        memory = self.memory + lang.memory_overhead
        return {
            "cpu_time": self.cpu_time,
            "wall_time": self.wall_time(),
            "memory": memory,
            "output": self.output,
            "output_overflow": self.overflow,
            "pids": lang.pids,
            # The stack may grow to the memory limit, as Kattis and DOMjudge allow (both lift
            # the stack rlimit): a deep recursion is judged by the memory it uses, not by a
            # 64 MiB default that no contestant knows about.
            "stack": memory,
        }


#: What a program may write in its box beyond the files it is given (sandbox.Limits.disk).
RUN_DISK = 64 << 20


def box_disk(files: Mapping[str, bytes]) -> int:
    """Room for the files a run is given, plus what it may write itself.

    A binary larger than the default disk (a statically initialised array: DOMjudge's
    test-memstatic.cc is a 512 MiB binary) would otherwise not fit its own box, an internal
    error for a program that compiled. The room is safe to grant: the program's own writes
    are charged to its memory limit, and the files are copied in by the supervisor."""
    return RUN_DISK + sum(len(data) for data in files.values())


def run_program(
    run: Runner,
    program: Program,
    limits: RunLimits,
    *,
    stdin: bytes,
    extra_args: tuple[str, ...] = (),
    extra_files: Mapping[str, bytes] | None = None,
    copy_out: tuple[str, ...] = (),
) -> sandbox.Result:
    lang = program.language
    files = {**program.files, **(extra_files or {})}
    return run_safely(
        run,
        program.command(limits.memory) + list(extra_args),
        {**limits.for_sandbox(lang), "disk": box_disk(files)},
        stdin=stdin,
        files=files,
        executables=lang.executables_in(program.files),
        binds=lang.binds,
        **({"copy_out": copy_out} if copy_out else {}),
    )


_SANDBOX_TO_JUDGE = {
    sandbox.Verdict.TIME_LIMIT: Verdict.TLE,
    sandbox.Verdict.MEMORY_LIMIT: Verdict.MLE,
    sandbox.Verdict.OUTPUT_LIMIT: Verdict.OLE,
    sandbox.Verdict.SECURITY_VIOLATION: Verdict.SV,
    sandbox.Verdict.RUNTIME_ERROR: Verdict.RE,
}


def run_verdict(lang: Language, r: sandbox.Result) -> Verdict | None:
    """The judge verdict of a finished run, or None when it ran cleanly and must be checked."""
    if r.verdict is sandbox.Verdict.OK and r.exit_code == 0:
        return None
    verdict = _SANDBOX_TO_JUDGE.get(r.verdict, Verdict.RE)
    if verdict is Verdict.RE and any(m in r.stderr for m in lang.mle_markers):
        return Verdict.MLE
    return verdict
