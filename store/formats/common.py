"""What every package format shares: languages by file extension, expected verdicts by the
names packages give them, entry points of multi-file programs, and reading text safely.

The store knows language *ids* only (worker.languages owns the toolchains): a package names
programs by file extension, and an id here that this host lacks is found out at grading time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from store.problems import ProblemError

# Kattis and DOMjudge extensions; the first language id is ours.
EXTENSIONS: Mapping[str, str] = {
    ".c": "c",
    ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".c++": "cpp", ".C": "cpp",
    ".py": "python3", ".py3": "python3",
    ".java": "java",
    ".js": "javascript", ".mjs": "javascript",
    ".rs": "rust",
    ".rb": "ruby",
    ".pl": "perl",
    ".sh": "bash", ".bash": "bash",
    ".kt": "kotlin",
    ".go": "go",
    ".hs": "haskell",
    ".cs": "csharp",
    ".pas": "pascal",
    ".php": "php",
    ".ml": "ocaml",
    ".scala": "scala",
    ".lisp": "lisp", ".cl": "lisp",
    ".lua": "lua",
    ".pro": "prolog",
    ".R": "r",
}  # fmt: skip

# Verdict words of ICPC submission folders, DOMjudge @EXPECTED_RESULTS@ and Polygon tags.
VERDICT_WORDS: Mapping[str, str] = {
    "accepted": "AC", "correct": "AC", "ok": "AC", "main": "AC", "ac": "AC",
    "wrong_answer": "WA", "wrong-answer": "WA", "wa": "WA", "presentation-error": "PE",
    "no-output": "WA", "presentation_error": "PE",
    "time_limit_exceeded": "TLE", "time-limit-exceeded": "TLE", "timelimit": "TLE", "tle": "TLE",
    "memory_limit_exceeded": "MLE", "memory-limit-exceeded": "MLE", "mle": "MLE",
    "output_limit_exceeded": "OLE", "output-limit-exceeded": "OLE", "ole": "OLE",
    "run_time_error": "RE", "run-error": "RE", "runtime_error": "RE", "run_error": "RE",
    "rte": "RE", "re": "RE",
    "compiler_error": "CE", "compiler-error": "CE", "memory-limit": "MLE",
    "output-limit": "OLE", "compile-error": "CE", "compile_error": "CE", "ce": "CE",
}  # fmt: skip

_MAIN_MARKERS: Mapping[str, re.Pattern[str]] = {
    "c": re.compile(r"\bint\s+main\s*\("),
    "cpp": re.compile(r"\bint\s+main\s*\("),
    "java": re.compile(r"\bstatic\s+(?:public\s+)?void\s+main\s*\("),
    "kotlin": re.compile(r"\bfun\s+main\s*\("),
    "python3": re.compile(r"__name__\s*==\s*['\"]__main__['\"]"),
    "go": re.compile(r"\bfunc\s+main\s*\("),
    "csharp": re.compile(r"\bstatic\s+\w*\s*(?:void|int)\s+Main\s*\("),
    "scala": re.compile(r"\bdef\s+main\s*\(|extends\s+App\b"),
}


def language_of(name: str) -> str | None:
    """Our language id for a file name, or None for an unknown extension."""
    suffix = Path(name).suffix
    return EXTENSIONS.get(suffix) or EXTENSIONS.get(suffix.lower())


def entry_point(files: Mapping[str, str], language: str, preferred: Iterable[str] = ()) -> str:
    """Which file of a multi-file program is its entry point, the way Kattis and DOMjudge
    choose: a file named like the problem or ``main``, then the only file that defines a
    main function, then the first by name."""
    names = sorted(n for n in files if language_of(n) == language) or sorted(files)
    stems = {Path(n).stem.lower(): n for n in names}
    for wanted in (*preferred, "main", "Main"):
        if wanted.lower() in stems:
            return stems[wanted.lower()]
    marker = _MAIN_MARKERS.get(language)
    if marker is not None:
        with_main = [n for n in names if marker.search(files[n])]
        if len(with_main) == 1:
            return with_main[0]
    return names[0]


def read_text(path: Path, what: str) -> str:
    """A package's text file; ProblemError naming it when it is not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        try:
            return path.read_bytes().decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise ProblemError(f"{what}: not UTF-8 text") from None
    except OSError as e:
        raise ProblemError(f"{what}: {e.strerror}") from None


def program_files(directory: Path) -> dict[str, bytes]:
    """Every regular file directly in ``directory`` (a validator's sources and headers)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(directory.iterdir())
        if p.is_file() and not p.is_symlink()
    }
