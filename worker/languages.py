"""Languages as data: how to compile and run each one inside the sandbox.

Every language is one :class:`Language` row; the pipeline has no per-language branches. Commands
use absolute paths because the box has no PATH lookup through host shims (pyenv, rustup proxies),
and ``{memory_mb}`` in a run command becomes the problem's memory limit in MiB (JVM heap size).
``available()`` keeps only rows whose ``requires`` paths exist on this host, so the web form and
``GET /api/languages`` never offer a language that would fail to compile.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_MiB = 1 << 20


class UnknownLanguage(ValueError):
    """No such language id, or its toolchain is missing on this host."""


def _limits(**overrides: Any) -> Mapping[str, Any]:
    base: dict[str, Any] = {
        "cpu_time": 10.0,
        "wall_time": 20.0,
        "memory": 512 * _MiB,
        "pids": 32,
        "output": 1 * _MiB,  # compiler chatter beyond this is noise
        "file_size": 64 * _MiB,
        "disk": 128 * _MiB,
    }
    base.update(overrides)
    return MappingProxyType(base)


@dataclass(frozen=True)
class Language:
    id: str
    name: str
    source: str  # file name the source is saved as in the box
    run: tuple[str, ...]  # argv of one test run; "{memory_mb}" is filled in
    compile: tuple[str, ...] | None = None  # argv, run once per submission; None: nothing to do
    # Files the compile step leaves behind and the runs need. Empty: the source itself runs and
    # the compile step (if any) is only a syntax check that turns mistakes into CE.
    artifacts: tuple[str, ...] = ()
    executables: tuple[str, ...] = ()  # artifacts that need the executable bit
    binds: tuple[str, ...] = ()  # read-only host directories the toolchain needs in the box
    compile_env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    compile_limits: Mapping[str, Any] = field(default_factory=_limits)
    # Runtimes with a large fixed footprint get this on top of the problem's memory limit, so a
    # 64 MiB problem stays solvable in them; the program's own limit is set by a flag instead.
    memory_overhead: int = 0
    pids: int = 64
    # Some runtimes turn running out of memory into an ordinary error exit; these markers in
    # stderr make that MLE, as the kernel's OOM kill would be for native code.
    mle_markers: tuple[bytes, ...] = ()
    # In an interactive run, these in stderr mean the program failed only because the other side
    # hung up (its stdin hit EOF or its stdout lost the reader): the interactor's verdict stands.
    # "Broken pipe" (strerror(EPIPE)) and death by SIGPIPE count for every language.
    hangup_markers: tuple[bytes, ...] = ()
    requires: tuple[str, ...] = ()  # host paths that must exist for the language to be offered

    def run_command(self, memory_limit: int) -> list[str]:
        mb = str(max(1, memory_limit // _MiB))
        return [arg.replace("{memory_mb}", mb) for arg in self.run]

    def available(self) -> bool:
        return all(os.path.exists(p) for p in self.requires)


def _rust_toolchain() -> str:
    # Call rustc from its toolchain directory, not through the rustup proxy in ~/.cargo/bin:
    # the proxy needs RUSTUP_HOME and a writable home, and costs a process per call.
    wanted = os.environ.get("JUDGE_RUST_TOOLCHAIN")
    if wanted:
        return wanted
    home = os.environ.get("RUSTUP_HOME", "/root/.rustup")
    found = sorted(glob.glob(os.path.join(home, "toolchains", "*", "bin", "rustc")))
    stable = [p for p in found if "/stable-" in p]
    best = (stable or found or [os.path.join(home, "toolchains", "stable", "bin", "rustc")])[0]
    return os.path.dirname(os.path.dirname(best))


def _java_conf() -> str:
    # Debian's JVM reads jvm.cfg through /etc/java-N-openjdk; the box must see that directory.
    found = sorted(glob.glob("/etc/java-*-openjdk"))
    return found[-1] if found else "/etc/java-17-openjdk"


_RUST = _rust_toolchain()
_JAVA_CONF = _java_conf()
# Few JVM threads and a serial GC keep the JVM inside a pids limit and its CPU time honest
# (CPU time is summed over every thread of the box).
_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:ActiveProcessorCount=1", "-XX:TieredStopAtLevel=1")

LANGUAGES: tuple[Language, ...] = (
    Language(
        id="c",
        name="C (gcc, C17)",
        source="main.c",
        compile=("/usr/bin/gcc", "-std=gnu17", "-O2", "-pipe", "-o", "main", "main.c", "-lm"),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        requires=("/usr/bin/gcc",),
    ),
    Language(
        id="cpp",
        name="C++ (g++, C++17)",
        source="main.cpp",
        compile=("/usr/bin/g++", "-std=gnu++17", "-O2", "-pipe", "-o", "main", "main.cpp"),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        compile_limits=_limits(memory=1024 * _MiB),
        requires=("/usr/bin/g++",),
    ),
    Language(
        id="python3",
        name="Python 3",
        source="main.py",
        compile=(
            # -S -I: a syntax check needs no site packages; their import was a third of its
            # 9 ms of CPU, paid by every submission.
            "/usr/bin/python3",
            "-S",
            "-I",
            "-c",
            "import sys; compile(open(sys.argv[1], 'rb').read(), sys.argv[1], 'exec')",
            "main.py",
        ),
        run=("/usr/bin/python3", "-B", "main.py"),
        hangup_markers=(b"EOFError", b"BrokenPipeError"),
        requires=("/usr/bin/python3",),
    ),
    Language(
        id="java",
        name="Java (OpenJDK, class Main)",
        source="Main.java",
        compile=(
            "/bin/sh",
            "-c",
            # javac may write several classes (inner ones too); one jar carries them all out.
            "/usr/bin/javac -encoding UTF-8 "
            + " ".join(f"-J{f}" for f in _JVM_FLAGS)
            + " Main.java && /usr/bin/jar -J-XX:+UseSerialGC cf Main.jar *.class",
        ),
        artifacts=("Main.jar",),
        run=(
            "/usr/bin/java",
            "-XX:+UseSerialGC",
            "-XX:ActiveProcessorCount=1",
            "-Xmx{memory_mb}m",
            "-Xss64m",
            "-cp",
            "Main.jar",
            "Main",
        ),
        binds=(_JAVA_CONF,),
        compile_limits=_limits(cpu_time=30.0, wall_time=45.0, memory=1024 * _MiB, pids=128),
        memory_overhead=128 * _MiB,
        pids=128,
        mle_markers=(b"java.lang.OutOfMemoryError",),
        # Scanner past the end of its input.
        hangup_markers=(b"java.util.NoSuchElementException",),
        requires=("/usr/bin/javac", "/usr/bin/java", "/usr/bin/jar", _JAVA_CONF),
    ),
    Language(
        id="javascript",
        name="JavaScript (Node.js)",
        source="main.js",
        compile=("/usr/bin/node", "--check", "main.js"),
        run=("/usr/bin/node", "--max-old-space-size={memory_mb}", "main.js"),
        compile_limits=_limits(memory=1024 * _MiB),
        memory_overhead=64 * _MiB,
        mle_markers=(b"JavaScript heap out of memory",),
        hangup_markers=(b"EPIPE",),
        requires=("/usr/bin/node",),
    ),
    Language(
        id="rust",
        name="Rust (rustc, 2021)",
        source="main.rs",
        compile=(f"{_RUST}/bin/rustc", "--edition=2021", "-O", "-o", "main", "main.rs"),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        binds=(_RUST,),
        compile_limits=_limits(cpu_time=30.0, wall_time=60.0, memory=2048 * _MiB, pids=128),
        requires=(f"{_RUST}/bin/rustc", "/usr/bin/cc"),
    ),
    Language(
        id="ruby",
        name="Ruby",
        source="main.rb",
        compile=("/usr/bin/ruby", "-c", "main.rb"),
        run=("/usr/bin/ruby", "main.rb"),
        hangup_markers=(b"EOFError", b"Errno::EPIPE"),
        requires=("/usr/bin/ruby",),
    ),
    Language(
        id="perl",
        name="Perl",
        source="main.pl",
        # `perl -c` also runs BEGIN blocks: harmless, since compiling happens in the sandbox too.
        compile=("/usr/bin/perl", "-c", "main.pl"),
        run=("/usr/bin/perl", "main.pl"),
        requires=("/usr/bin/perl",),
    ),
    Language(
        id="bash",
        name="Bash",
        source="main.sh",
        compile=("/bin/bash", "-n", "main.sh"),
        run=("/bin/bash", "main.sh"),
        requires=("/bin/bash",),
    ),
)

_BY_ID: Mapping[str, Language] = MappingProxyType({lang.id: lang for lang in LANGUAGES})


def ids() -> tuple[str, ...]:
    """Every language id this judge knows, installed here or not (workers may have more)."""
    return tuple(_BY_ID)


def available() -> list[Language]:
    """Languages whose toolchain exists on this host, in display order."""
    return [lang for lang in LANGUAGES if lang.available()]


def get(language_id: str) -> Language:
    """The language with this id; UnknownLanguage if there is none or it is not installed."""
    lang = _BY_ID.get(language_id)
    if lang is None:
        raise UnknownLanguage(f"unknown language {language_id!r}")
    if not lang.available():
        raise UnknownLanguage(f"language {language_id!r} is not installed on this host")
    return lang


def describe() -> list[dict[str, str]]:
    """The ``GET /api/languages`` payload."""
    return [{"id": lang.id, "name": lang.name, "source_file": lang.source} for lang in available()]
