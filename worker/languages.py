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
import re
import subprocess
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_MiB = 1 << 20


class UnknownLanguage(ValueError):
    """No such language id, or its toolchain is missing on this host."""


#: The compile wall-time limit of a language that names none (Python's syntax check, C, C++).
COMPILE_WALL = 20.0


def _limits(**overrides: Any) -> Mapping[str, Any]:
    base: dict[str, Any] = {
        "cpu_time": 10.0,
        "wall_time": COMPILE_WALL,
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
    version_command: tuple[str, ...] = ()  # argv run on the host; first line of output
    packages: tuple[str, ...] = ()  # Debian packages of the toolchain (judge languages install)
    # The compile step is CPython's syntax check (`python3 ... -c CHECK`), which a long-lived
    # parser process of the worker can answer without a box per submission (worker.python_parser).
    parser: bool = False

    def executables_in(self, files: Mapping[str, bytes]) -> list[str]:
        """Which of a program's files its run box makes executable (``executables``)."""
        return [n for n in files if named_in(self.executables, n)]

    def artifacts_in(self, files: Mapping[str, bytes]) -> dict[str, bytes]:
        """The compile box's files that are the program's (``artifacts``)."""
        return {n: data for n, data in files.items() if named_in(self.artifacts, n)}

    def run_command(self, memory_limit: int) -> list[str]:
        mb = str(max(1, memory_limit // _MiB))
        return [arg.replace("{memory_mb}", mb) for arg in self.run]

    def available(self) -> bool:
        return all(os.path.exists(p) for p in self.requires)

    def version(self) -> str:
        """The toolchain's version line, asked once per process; "" when it cannot say."""
        return _version(self.version_command)


def named_in(entries: tuple[str, ...], name: str) -> bool:
    """Whether ``entries`` (artifacts, executables) name a file: by its name, or by a
    directory above it (an entry ending in "/", a build's whole directory)."""
    return any(name == e or (e.endswith("/") and name.startswith(e)) for e in entries)


def _rust_toolchain() -> str:
    # Call rustc from its toolchain directory, not through the rustup proxy in ~/.cargo/bin:
    # the proxy needs RUSTUP_HOME and a writable home, and costs a process per call.
    wanted = os.environ.get("JUDGE_RUST_TOOLCHAIN")
    if wanted:
        return wanted
    home = os.environ.get("RUSTUP_HOME", "/root/.rustup")
    found = sorted(glob.glob(os.path.join(home, "toolchains", "*", "bin", "rustc")))
    stable = [p for p in found if "/stable-" in p]
    if not found and os.path.exists("/usr/bin/rustc"):
        return "/usr"  # Debian's rustc (judge languages install rust)
    best = (stable or found or [os.path.join(home, "toolchains", "stable", "bin", "rustc")])[0]
    return os.path.dirname(os.path.dirname(best))


def _newest(pattern: str, default: str) -> str:
    found = sorted(glob.glob(pattern))
    return found[-1] if found else default


_RUST = _rust_toolchain()
# Debian's JVM reads jvm.cfg through /etc/java-N-openjdk; the box must see that directory.
_JAVA_CONF = _newest("/etc/java-*-openjdk", "/etc/java-17-openjdk")
# fpc reads /etc/fpc.cfg, a symlink through /etc/alternatives to this file (unit search paths).
_FPC_CFG = _newest("/etc/fpc-*.cfg", "/etc/fpc-3.2.2.cfg")
_KOTLIN_STDLIB = "/usr/share/kotlin/kotlinc/lib/kotlin-stdlib.jar"
_SCALA_LIBRARY = "/usr/share/scala-2.11/lib/scala-library.jar"
# Few JVM threads and a serial GC keep the JVM inside a pids limit and its CPU time honest
# (CPU time is summed over every thread of the box).
_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:ActiveProcessorCount=1", "-XX:TieredStopAtLevel=1")
_JVM_COMPILER_ENV = MappingProxyType(
    # kotlinc and scalac are shell scripts that pass JAVA_OPTS to their JVM.
    # -XX:-PrintWarnings: kotlinc passes -noverify, which JDK 13+ warns about on every compile.
    {"JAVA_OPTS": "-Xmx768m -Xss16m -XX:-PrintWarnings " + " ".join(_JVM_FLAGS)}
)
# Every JVM language runs `java -jar Main.jar`: the jar's manifest names the entry class (and
# the runtime library), so one fixed argv serves every submission whatever its class is called.
_JVM_RUN = (
    "/usr/bin/java",
    "-XX:+UseSerialGC",
    "-XX:ActiveProcessorCount=1",
    "-Xmx{memory_mb}m",
    "-Xss64m",
    "-jar",
    "Main.jar",
)
_JVM_LIMITS = _limits(cpu_time=60.0, wall_time=90.0, memory=1536 * _MiB, pids=128)
_JVM_REQUIRES = ("/usr/bin/java", "/usr/bin/javap", "/usr/bin/jar", _JAVA_CONF)

# The entry class, found the way DOMjudge and Kattis find it: javap lists the compiled classes
# in ./classes and the ones with `public static void main(String[])`; a public class wins over a
# package-private one, then the class named $1 (the submitted file's), then the only candidate.
# Several candidates and no tie-break is a compile error naming them, never a guess.
_JVM_PACKAGE = r"""
names=$(cd classes && find . -name '*.class' | sed 's|^\./||; s|\.class$||; s|/|.|g' | sort)
[ -n "$names" ] || { echo 'no classes were compiled' >&2; exit 1; }
found=$(/usr/bin/javap -J-XX:+UseSerialGC -J-XX:ActiveProcessorCount=1 -cp classes $names |
  awk '/^([a-z]+ )*(class|interface|enum|record) / { cur = ""; pub = ($1 == "public")
         for (i = 1; i < NF; i++) if ($i ~ /^(class|interface|enum|record)$/) {
           cur = $(i + 1); sub(/<.*/, "", cur); break } }
       /^  public static .*void main\(java\.lang\.String(\[\]|\.\.\.)\)/ && cur != "" {
         print (pub ? 0 : 1), cur }' | sort -s -k1,1) || exit 1
best=$(printf '%s\n' "$found" | awk 'NR == 1 { r = $1 } $1 == r && NF == 2 { print $2 }')
main=$(printf '%s\n' "$best" | awk -v w="$1" '{ n = $0; sub(/.*\./, "", n) } n == w { print; exit }')
if [ -z "$main" ] && [ -n "$best" ] && [ "$(printf '%s\n' "$best" | wc -l)" -eq 1 ]; then
  main=$best
fi
if [ -z "$main" ]; then
  if [ -z "$best" ]; then echo 'no class has public static void main(String[] args)' >&2
  else echo "several classes have main: $(echo $best)" >&2; fi
  exit 1
fi
printf 'Main-Class: %s\n' "$main" > manifest.txt
[ -z "$2" ] || printf 'Class-Path: %s\n' "$2" >> manifest.txt
exec /usr/bin/jar -J-XX:+UseSerialGC -J-XX:ActiveProcessorCount=1 cfm Main.jar manifest.txt \
  -C classes .
"""


def _jvm_compile(compile_line: str, entry: str, classpath: str = "") -> tuple[str, ...]:
    """sh -c: compile every source into ./classes, then jar it with the entry class found."""
    script = f"mkdir -p classes && {compile_line} || exit 1\nset -- {entry} '{classpath}'\n"
    return ("/bin/sh", "-c", script + _JVM_PACKAGE)


# javac wants a public class in a file of its name: Main.java holding `public class Solution`
# becomes Solution.java first (a top-level class is never `static`, a nested one usually is).
_JAVA_COMPILE = _jvm_compile(
    "pub=$(sed -n 's/^[[:space:]]*public[[:space:]]\\+\\(\\(final\\|abstract\\|sealed\\|strictfp\\)"
    "[[:space:]]\\+\\)*\\(class\\|interface\\|enum\\|record\\)[[:space:]]\\+"
    "\\([A-Za-z_$][A-Za-z0-9_$]*\\).*/\\4/p' Main.java | head -n 1)\n"
    'if [ -n "$pub" ] && [ "$pub" != Main ]; then mv Main.java "$pub.java" || exit 1; fi\n'
    "/usr/bin/javac -encoding UTF-8 "
    + " ".join(f"-J{f}" for f in _JVM_FLAGS)
    + " -d classes *.java",
    '"${pub:-Main}"',
)


def _each(patterns: str, compile_line: str) -> tuple[str, ...]:
    """sh -c: run compile_line with "$@" = every file in the box matching the glob patterns."""
    script = (
        f'set --; for f in {patterns}; do [ -e "$f" ] && set -- "$@" "$f"; done\n'
        f"exec {compile_line}"
    )
    return ("/bin/sh", "-c", script)


# The syntax check covers every source of a multi-file program, used or not, as Kattis and
# DOMjudge check them (DOMjudge's hello ships a submission whose unused module is a CE).
_PY_CHECK_ALL = (
    "import os\nfor f in sorted(os.listdir('.')):\n"
    "    if f.endswith('.py'): compile(open(f, 'rb').read(), f, 'exec')"
)
_JS_CHECK_ALL = (
    "/bin/sh",
    "-c",
    'for f in *.js *.mjs; do [ -e "$f" ] || continue; /usr/bin/node --check "$f" || exit 1; done',
)


LANGUAGES: tuple[Language, ...] = (
    Language(
        id="c",
        name="C (gcc, C17)",
        source="main.c",
        # Every .c in the box: a multi-file submission's other sources come as files beside it.
        # $COMPILER_OPTIONS: a Judge0 client's compiler_options (worker.judge0), unset
        # otherwise; expanded unquoted, so split into words and never run as code.
        compile=_each(
            "*.c", '/usr/bin/gcc -std=gnu17 -O2 -pipe $COMPILER_OPTIONS -o main "$@" -lm'
        ),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        requires=("/usr/bin/gcc",),
        version_command=("/usr/bin/gcc", "--version"),
        packages=("gcc", "libc6-dev"),
    ),
    Language(
        id="cpp",
        name="C++ (g++, C++17)",
        source="main.cpp",
        compile=_each(
            "*.cpp *.cc *.cxx", '/usr/bin/g++ -std=gnu++17 -O2 -pipe $COMPILER_OPTIONS -o main "$@"'
        ),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        compile_limits=_limits(memory=1024 * _MiB),
        requires=("/usr/bin/g++",),
        version_command=("/usr/bin/g++", "--version"),
        packages=("g++", "libc6-dev"),
    ),
    # Before python3: a file suffix shared by two languages means the last one (worker.batches),
    # and .py means CPython.
    Language(
        id="pypy3",
        name="Python 3 (PyPy)",
        source="main.py",
        compile=("/usr/bin/pypy3", "-S", "-c", _PY_CHECK_ALL),
        run=("/usr/bin/pypy3", "-B", "main.py"),
        memory_overhead=64 * _MiB,
        mle_markers=(b"MemoryError",),
        hangup_markers=(b"EOFError", b"BrokenPipeError"),
        requires=("/usr/bin/pypy3",),
        version_command=(
            "/usr/bin/pypy3",
            "-c",
            "import sys; v = sys.pypy_version_info; print(f'PyPy {v.major}.{v.minor}.{v.micro}"
            " (Python {sys.version.split()[0]})')",
        ),
        packages=("pypy3",),
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
            _PY_CHECK_ALL,
        ),
        run=("/usr/bin/python3", "-B", "main.py"),
        parser=True,
        hangup_markers=(b"EOFError", b"BrokenPipeError"),
        requires=("/usr/bin/python3",),
        version_command=("/usr/bin/python3", "--version"),
        packages=("python3",),
    ),
    Language(
        id="java",
        name="Java (OpenJDK)",
        source="Main.java",
        # Every .java in the box; the entry class is found (see _JVM_PACKAGE), package or not.
        compile=_JAVA_COMPILE,
        artifacts=("Main.jar",),
        run=_JVM_RUN,
        binds=(_JAVA_CONF,),
        compile_limits=_limits(cpu_time=30.0, wall_time=45.0, memory=1024 * _MiB, pids=128),
        memory_overhead=128 * _MiB,
        pids=128,
        mle_markers=(b"java.lang.OutOfMemoryError",),
        # Scanner past the end of its input.
        hangup_markers=(b"java.util.NoSuchElementException",),
        requires=("/usr/bin/javac", *_JVM_REQUIRES),
        version_command=("/usr/bin/javac", "-version"),
        packages=("openjdk-17-jdk-headless",),
    ),
    Language(
        id="javascript",
        name="JavaScript (Node.js)",
        source="main.js",
        compile=_JS_CHECK_ALL,
        run=("/usr/bin/node", "--max-old-space-size={memory_mb}", "main.js"),
        compile_limits=_limits(memory=1024 * _MiB),
        memory_overhead=64 * _MiB,
        mle_markers=(b"JavaScript heap out of memory",),
        hangup_markers=(b"EPIPE",),
        requires=("/usr/bin/node",),
        version_command=("/usr/bin/node", "--version"),
        packages=("nodejs",),
    ),
    Language(
        id="rust",
        name="Rust (rustc, 2021)",
        source="main.rs",
        compile=(f"{_RUST}/bin/rustc", "--edition=2021", "-O", "-o", "main", "main.rs"),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        binds=() if _RUST == "/usr" else (_RUST,),
        compile_limits=_limits(cpu_time=30.0, wall_time=60.0, memory=2048 * _MiB, pids=128),
        requires=(f"{_RUST}/bin/rustc", "/usr/bin/cc"),
        version_command=(f"{_RUST}/bin/rustc", "--version"),
        packages=("rustc",),  # Debian's; a rustup toolchain is found first (_rust_toolchain)
    ),
    Language(
        id="ruby",
        name="Ruby",
        source="main.rb",
        compile=("/usr/bin/ruby", "-c", "main.rb"),
        run=("/usr/bin/ruby", "main.rb"),
        hangup_markers=(b"EOFError", b"Errno::EPIPE"),
        requires=("/usr/bin/ruby",),
        version_command=("/usr/bin/ruby", "--version"),
        packages=("ruby",),
    ),
    Language(
        id="perl",
        name="Perl",
        source="main.pl",
        # `perl -c` also runs BEGIN blocks: harmless, since compiling happens in the sandbox too.
        compile=("/usr/bin/perl", "-c", "main.pl"),
        run=("/usr/bin/perl", "main.pl"),
        requires=("/usr/bin/perl",),
        version_command=("/usr/bin/perl", "-e", "print qq(perl $^V\n)"),
        packages=("perl",),
    ),
    Language(
        id="bash",
        name="Bash",
        source="main.sh",
        compile=("/bin/bash", "-n", "main.sh"),
        # ./main.sh: $0 then names its directory (`. ${0%/*}/lib.sh`, as BAPCtools' hello does).
        run=("/bin/bash", "./main.sh"),
        requires=("/bin/bash",),
        version_command=("/bin/bash", "--version"),
        packages=("bash",),
    ),
    Language(
        id="kotlin",
        name="Kotlin (kotlinc, JVM)",
        source="Main.kt",
        # `fun main` in Main.kt is class MainKt (with the file's package prefix); javap finds it.
        compile=_jvm_compile("/usr/bin/kotlinc -nowarn -d classes *.kt", "MainKt", _KOTLIN_STDLIB),
        artifacts=("Main.jar",),
        run=_JVM_RUN,
        binds=(_JAVA_CONF,),
        compile_env=_JVM_COMPILER_ENV,
        compile_limits=_JVM_LIMITS,
        memory_overhead=128 * _MiB,
        pids=128,
        mle_markers=(b"java.lang.OutOfMemoryError",),
        hangup_markers=(b"java.util.NoSuchElementException", b"KotlinNullPointerException"),
        requires=("/usr/bin/kotlinc", _KOTLIN_STDLIB, *_JVM_REQUIRES),
        version_command=("/usr/bin/kotlinc", "-version"),
        packages=("kotlin", "openjdk-17-jdk-headless"),
    ),
    Language(
        id="go",
        name="Go",
        source="main.go",
        # No -trimpath: it changes build ids, so Debian's precompiled standard library would be
        # rebuilt (3 s) in every empty build cache.
        compile=("/usr/bin/go", "build", "-o", "main", "main.go"),
        artifacts=("main",),
        executables=("main",),
        # One P: Go's parallel GC would otherwise bill every core's work as the program's CPU
        # time, and spawn a thread per core into the pids limit.
        run=("/usr/bin/env", "GOMAXPROCS=1", "./main"),
        # The build cache and GOPATH must be writable; the box's /tmp is. No cgo: a static
        # binary, and no gcc in the build.
        compile_env=MappingProxyType(
            {
                "GOCACHE": "/tmp/go-cache",
                "GOPATH": "/tmp/go",
                "HOME": "/tmp",
                "CGO_ENABLED": "0",
                "GO111MODULE": "auto",
                "GOFLAGS": "-mod=mod",
                "GOPROXY": "off",
            }
        ),
        compile_limits=_limits(cpu_time=30.0, wall_time=60.0, memory=1024 * _MiB, pids=128),
        hangup_markers=(b"EOF",),
        requires=("/usr/bin/go", "/usr/bin/env"),
        version_command=("/usr/bin/go", "version"),
        packages=("golang-go",),
    ),
    Language(
        id="haskell",
        name="Haskell (GHC)",
        source="main.hs",
        compile=("/usr/bin/ghc", "-O2", "-o", "main", "main.hs"),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        # /usr/lib/ghc/package.conf.d is a symlink to Debian's package database here.
        binds=("/var/lib/ghc",),
        compile_env=MappingProxyType({"HOME": "/tmp"}),
        compile_limits=_limits(cpu_time=60.0, wall_time=90.0, memory=2048 * _MiB, pids=128),
        mle_markers=(b"Heap exhausted",),
        hangup_markers=(b"end of file",),
        requires=("/usr/bin/ghc", "/var/lib/ghc"),
        version_command=("/usr/bin/ghc", "--version"),
        packages=("ghc",),
    ),
    Language(
        id="csharp",
        name="C# (Mono)",
        source="main.cs",
        compile=("/usr/bin/mcs", "-optimize+", "-out:main.exe", "main.cs"),
        artifacts=("main.exe",),
        run=("/usr/bin/mono", "main.exe"),
        # Mono reads its machine.config and assembly map from /etc/mono.
        binds=("/etc/mono",),
        compile_env=MappingProxyType({"HOME": "/tmp"}),
        compile_limits=_limits(cpu_time=30.0, wall_time=45.0, memory=1024 * _MiB, pids=128),
        memory_overhead=64 * _MiB,
        pids=128,
        mle_markers=(b"System.OutOfMemoryException",),
        hangup_markers=(b"System.IO.IOException",),
        requires=("/usr/bin/mcs", "/usr/bin/mono", "/etc/mono"),
        version_command=("/usr/bin/mono", "--version"),
        packages=("mono-mcs", "mono-runtime"),
    ),
    Language(
        id="pascal",
        name="Pascal (Free Pascal)",
        source="main.pas",
        # -n @cfg: the config file by its real path, since /etc/fpc.cfg is a symlink chain.
        compile=(
            "/usr/bin/fpc",
            "-n",
            f"@{_FPC_CFG}",
            "-O2",
            "-XS",
            "-Sg",
            "-vew",
            "-omain",
            "main.pas",
        ),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        binds=(_FPC_CFG,),
        compile_limits=_limits(cpu_time=30.0, wall_time=45.0, pids=64),
        requires=("/usr/bin/fpc", _FPC_CFG),
        version_command=("/usr/bin/fpc", "-iV"),
        packages=("fpc",),
    ),
    Language(
        id="php",
        name="PHP",
        source="main.php",
        compile=("/usr/bin/php", "-l", "main.php"),
        # PHP's own limit, so running out is its "Allowed memory size" error rather than a kill.
        run=("/usr/bin/php", "-d", "memory_limit={memory_mb}M", "main.php"),
        binds=("/etc/php",),  # php.ini and the conf.d files that load the usual extensions
        memory_overhead=32 * _MiB,
        mle_markers=(b"Allowed memory size of",),
        requires=("/usr/bin/php", "/etc/php"),
        version_command=("/usr/bin/php", "--version"),
        packages=("php-cli",),
    ),
    Language(
        id="ocaml",
        name="OCaml (ocamlopt)",
        source="main.ml",
        # str and unix linked in, as Kattis and DOMjudge do: contest solutions use Str.split.
        compile=("/usr/bin/ocamlopt", "-o", "main", "str.cmxa", "unix.cmxa", "main.ml"),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        compile_limits=_limits(cpu_time=30.0, wall_time=45.0, memory=1024 * _MiB),
        mle_markers=(b"Out_of_memory",),
        hangup_markers=(b"End_of_file",),
        requires=("/usr/bin/ocamlopt",),
        version_command=("/usr/bin/ocamlopt", "-version"),
        packages=("ocaml-nox",),
    ),
    Language(
        id="scala",
        name="Scala (scalac, JVM)",
        source="Main.scala",
        # `object Main` with `def main(args: Array[String])`, or any one object with main.
        compile=_jvm_compile("/usr/bin/scalac -nowarn -d classes *.scala", "Main", _SCALA_LIBRARY),
        artifacts=("Main.jar",),
        run=_JVM_RUN,
        binds=(_JAVA_CONF,),
        compile_env=_JVM_COMPILER_ENV,
        compile_limits=_JVM_LIMITS,
        memory_overhead=128 * _MiB,
        pids=128,
        mle_markers=(b"java.lang.OutOfMemoryError",),
        hangup_markers=(b"java.util.NoSuchElementException",),
        requires=("/usr/bin/scalac", _SCALA_LIBRARY, *_JVM_REQUIRES),
        version_command=("/usr/bin/scalac", "-version"),
        packages=("scala", "openjdk-17-jdk-headless"),
    ),
    Language(
        id="lisp",
        name="Common Lisp (SBCL)",
        source="main.lisp",
        # No compile step: SBCL compiles each form as --script loads it, and a compile-file
        # pass would turn style warnings into compile errors. The heap follows the limit, so
        # running out is SBCL's "Heap exhausted" rather than a kill.
        run=("/usr/bin/sbcl", "--dynamic-space-size", "{memory_mb}MB", "--script", "main.lisp"),
        memory_overhead=64 * _MiB,
        mle_markers=(b"Heap exhausted",),
        hangup_markers=(b"END-OF-FILE",),
        requires=("/usr/bin/sbcl",),
        version_command=("/usr/bin/sbcl", "--version"),
        packages=("sbcl",),
    ),
    Language(
        id="lua",
        name="Lua 5.4",
        source="main.lua",
        compile=("/usr/bin/luac5.4", "-p", "main.lua"),
        run=("/usr/bin/lua5.4", "main.lua"),
        mle_markers=(b"not enough memory",),
        requires=("/usr/bin/lua5.4", "/usr/bin/luac5.4"),
        version_command=("/usr/bin/lua5.4", "-v"),
        packages=("lua5.4",),
    ),
    Language(
        id="prolog",
        name="Prolog (SWI-Prolog)",
        source="main.pl",
        # Kattis' command: every .pl in the box (a helper module such as kattio.pl is consulted
        # by the main file) into one saved state that runs main/0, then halts; a program with
        # no main/0 or an uncaught error exits non-zero. The state needs swipl's home at run
        # time, which lives under /usr (bound in every box).
        compile=_each("*.pl", '/usr/bin/swipl -O -q -g main -t halt -o main -c "$@"'),
        artifacts=("main",),
        executables=("main",),
        run=("./main",),
        compile_env=MappingProxyType({"HOME": "/tmp"}),
        compile_limits=_limits(cpu_time=30.0, wall_time=45.0),
        mle_markers=(b"resource_error", b"Not enough resources"),
        requires=("/usr/bin/swipl",),
        version_command=("/usr/bin/swipl", "--version"),
        packages=("swi-prolog-nox",),
    ),
    Language(
        id="r",
        name="R (Rscript)",
        source="main.R",
        # A syntax check, as DOMjudge's: parse() turns a typo into CE; the script then runs
        # as it is. R keeps its session files in TMPDIR, the box's /tmp.
        compile=("/usr/bin/Rscript", "--vanilla", "-e", "invisible(parse('main.R'))"),
        run=("/usr/bin/Rscript", "--vanilla", "main.R"),
        # /usr/lib/R/etc/Renviron and ldpaths are symlinks into /etc/R.
        binds=("/etc/R",),
        compile_env=MappingProxyType({"HOME": "/tmp", "TMPDIR": "/tmp"}),
        memory_overhead=64 * _MiB,
        mle_markers=(b"cannot allocate vector",),
        requires=("/usr/bin/Rscript", "/etc/R"),
        version_command=("/usr/bin/Rscript", "--version"),
        packages=("r-base-core",),
    ),
)

_BY_ID: Mapping[str, Language] = MappingProxyType({lang.id: lang for lang in LANGUAGES})
_VERSIONS: dict[tuple[str, ...], str] = {}
_VERSIONS_LOCK = threading.Lock()


_COPYRIGHT = re.compile(r"\s+(?:--\s+)?Copyright\b.*")


def _ask_version(argv: tuple[str, ...]) -> str:
    """First non-empty line a toolchain prints about itself (some print to stderr)."""
    if not argv or not os.path.exists(argv[0]):
        return ""
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,  # kotlinc and scalac start a JVM to answer
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    if done.returncode != 0:
        return ""
    for line in (done.stdout + b"\n" + done.stderr).decode("utf-8", "replace").splitlines():
        if "VM warning" in line:  # kotlinc's JVM complains about its own flags first
            continue
        line = _COPYRIGHT.split(line.strip().removeprefix("info: "))[0]
        if line:
            return line[:200]
    return ""


def _version(argv: tuple[str, ...]) -> str:
    with _VERSIONS_LOCK:
        if argv in _VERSIONS:
            return _VERSIONS[argv]
    found = _ask_version(argv)
    with _VERSIONS_LOCK:
        return _VERSIONS.setdefault(argv, found)


def versions(langs: list[Language]) -> dict[str, str]:
    """``{id: version}``, asking the toolchains not asked yet in parallel (JVM ones take 1 s)."""
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(langs)))) as pool:
        found = pool.map(Language.version, langs)
        return {lang.id: v for lang, v in zip(langs, found, strict=True)}


def ids() -> tuple[str, ...]:
    """Every language id this judge knows, installed here or not (workers may have more)."""
    return tuple(_BY_ID)


def known(language_id: str) -> Language | None:
    """The language row with this id, installed here or not."""
    return _BY_ID.get(language_id)


#: A problem program's language, never a submission's: an ICPC package program given as a
#: directory with ``build`` and/or ``run`` scripts (the format's "Other programs"). The
#: compile step moves its files into ``prog/`` and runs ``build`` there as a POSIX shell
#: script (with cc, c++ and python3 on the path); ``prog/run`` is then the program, with
#: whatever ``build`` left beside it (``run`` finds it through ``$0``), and the run's working
#: directory holds none of it but ``prog/``. The importer gives ``run`` alone an empty build.
PACKAGE_SCRIPTS = Language(
    id="icpc-scripts",
    name="ICPC package program (build and run scripts)",
    source="build",
    compile=(
        "/bin/sh", "-c",
        "mkdir prog && find . -maxdepth 1 ! -name . ! -name prog -exec mv -t prog/ -- {} +"
        ' && cd prog && /bin/sh ./build && test -f run'
        ' || { echo "build failed, or left no run file" >&2; exit 1; }',
    ),
    run=("./prog/run",),
    artifacts=("prog/",),
    executables=("prog/",),
    requires=("/bin/sh",),
)  # fmt: skip


def tool_ids() -> tuple[str, ...]:
    """The language ids a problem's own programs may have: every submission language, and
    PACKAGE_SCRIPTS."""
    return (*ids(), PACKAGE_SCRIPTS.id)


def for_tool(language_id: str) -> Language:
    """The language of a problem's own program (checker, interactor, input validator): a
    submission's languages, and PACKAGE_SCRIPTS."""
    return PACKAGE_SCRIPTS if language_id == PACKAGE_SCRIPTS.id else get(language_id)


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
    """The ``GET /api/languages`` payload; versions are asked once per process."""
    langs = available()
    found = versions(langs)
    return [
        {"id": lang.id, "name": lang.name, "source_file": lang.source, "version": found[lang.id]}
        for lang in langs
    ]
