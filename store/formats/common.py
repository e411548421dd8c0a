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
    ".pas": "pascal", ".p": "pascal",
    ".php": "php",
    ".ml": "ocaml",
    ".scala": "scala",
    ".lisp": "lisp", ".cl": "lisp",
    ".lua": "lua",
    ".pro": "prolog", ".plg": "prolog",
    ".R": "r",
}  # fmt: skip

# Languages the judge has no row for, named only so that a package's submissions in them are
# kept, and verify lists them as not installed instead of the import dropping them unseen
# (DOMjudge's other default languages). A validator in one of them stays an unknown file.
FOREIGN_EXTENSIONS: Mapping[str, str] = {
    ".adb": "ada", ".ads": "ada",
    ".awk": "awk",
    ".f95": "fortran", ".f90": "fortran",
    ".swift": "swift",
}  # fmt: skip

# Kattis' `.pl` is Prolog and DOMjudge's is Perl: a `.pl` file is Prolog when it has a Prolog
# clause or directive (`head :- body`, `:- module(...)`, `[kattio].`) and no Perl shebang.
_PROLOG = re.compile(
    r"^[ \t]*(?::-|[a-z]\w*[ \t]*(?:\([^\n]*\))?[ \t]*:-|\[[ \t]*[\w' ,]+\][ \t]*\.)",
    re.MULTILINE,
)
_PERL_SHEBANG = re.compile(r"\A#!.*\bperl\b")
# problemtools' rule: a `.py` whose first line names python2 is Python 2 (no toolchain here;
# a submission's only: a validator with that shebang keeps running under Python 3).
_PYTHON2_SHEBANG = re.compile(r"\A#!.*python2\b")

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
    "prolog": re.compile(r"^main[ \t]*:-", re.MULTILINE),
}


def language_of(name: str, text: str | None = None, *, foreign: bool = False) -> str | None:
    """Our language id for a file name, or None for an unknown extension; with the file's
    ``text``, the extensions that two languages share are told apart by their content
    (``.pl``: Prolog or Perl; ``.py``: Python 2 by its shebang, as problemtools does).
    ``foreign``: also the ids of FOREIGN_EXTENSIONS (a package's submissions)."""
    suffix = Path(name).suffix
    found = EXTENSIONS.get(suffix) or EXTENSIONS.get(suffix.lower())
    if found is None and foreign:
        found = FOREIGN_EXTENSIONS.get(suffix) or FOREIGN_EXTENSIONS.get(suffix.lower())
    if text is None:
        return found
    if found == "perl" and not _PERL_SHEBANG.match(text) and _PROLOG.search(text):
        return "prolog"
    if found == "python3" and foreign and _PYTHON2_SHEBANG.match(text):
        return "python2"
    return found


def entry_point(files: Mapping[str, str], language: str, preferred: Iterable[str] = ()) -> str:
    """Which file of a multi-file program is its entry point, the way Kattis and DOMjudge
    choose: a file named like the problem or ``main``, then the only file that defines a
    main function, then the first by name."""
    names = sorted(n for n in files if language_of(n, files[n]) == language) or sorted(files)
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
