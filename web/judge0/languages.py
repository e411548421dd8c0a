"""Judge0 CE 1.13.1's language ids for the languages this host has.

Judge0 names a language after its toolchain and version ("C (GCC 9.2.0)"); ours are named the
same way with the versions installed here. Judge0 CE has three GCC versions for C and C++: their
ids all compile with this host's gcc. 48, 49 and 53 are accepted but not listed; 52 is listed
because the official Python SDK's ``judge0.CPP`` resolves to it on 1.13.1.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache

from web import grading
from worker import languages as ours


@dataclass(frozen=True)
class Judge0Language:
    id: int
    ours: str
    label: str  # "C (GCC {})": {} becomes the version
    listed: bool = True

    def name(self) -> str:
        return self.label.format(_versions().get(self.ours, "?"))


TABLE: tuple[Judge0Language, ...] = (
    Judge0Language(46, "bash", "Bash ({})"),
    Judge0Language(48, "c", "C (GCC {})", listed=False),
    Judge0Language(49, "c", "C (GCC {})", listed=False),
    Judge0Language(50, "c", "C (GCC {})"),
    Judge0Language(51, "csharp", "C# (Mono {})"),
    Judge0Language(52, "cpp", "C++ (GCC {})"),
    Judge0Language(53, "cpp", "C++ (GCC {})", listed=False),
    Judge0Language(54, "cpp", "C++ (GCC {})"),
    Judge0Language(55, "lisp", "Common Lisp (SBCL {})"),
    Judge0Language(60, "go", "Go ({})"),
    Judge0Language(61, "haskell", "Haskell (GHC {})"),
    Judge0Language(62, "java", "Java (OpenJDK {})"),
    Judge0Language(63, "javascript", "JavaScript (Node.js {})"),
    Judge0Language(64, "lua", "Lua ({})"),
    Judge0Language(65, "ocaml", "OCaml ({})"),
    Judge0Language(67, "pascal", "Pascal (FPC {})"),
    Judge0Language(68, "php", "PHP ({})"),
    # Judge0 runs GNU Prolog; this is SWI-Prolog, and the name says so.
    Judge0Language(69, "prolog", "Prolog (SWI-Prolog {})"),
    Judge0Language(71, "python3", "Python ({})"),
    Judge0Language(72, "ruby", "Ruby ({})"),
    Judge0Language(73, "rust", "Rust ({})"),
    Judge0Language(78, "kotlin", "Kotlin ({})"),
    Judge0Language(80, "r", "R ({})"),
    Judge0Language(81, "scala", "Scala ({})"),
    Judge0Language(85, "perl", "Perl ({})"),
)
_BY_ID = {lang.id: lang for lang in TABLE}
_VERSION = re.compile(r"\d+(?:\.\d+)+")


@cache
def _versions() -> dict[str, str]:
    found = {}
    for lang in grading.languages():
        m = _VERSION.search(lang["version"])
        found[lang["id"]] = m.group(0) if m else lang["version"]
    return found


def installed(language_id: int) -> Judge0Language | None:
    """The language with this Judge0 id if this host has its toolchain."""
    lang = _BY_ID.get(language_id)
    if lang is None or lang.ours not in grading.language_ids():
        return None
    return lang


def listing() -> list[dict[str, object]]:
    """``GET /languages``: id and name, as Judge0 lists them."""
    return [
        {"id": lang.id, "name": lang.name()}
        for lang in TABLE
        if lang.listed and lang.ours in grading.language_ids()
    ]


def detail(lang: Judge0Language) -> dict[str, object]:
    """``GET /languages/{id}``: the commands are the sandbox's argv, shell-quoted."""
    row = ours.get(lang.ours)
    return {
        "id": lang.id,
        "name": lang.name(),
        "is_archived": False,
        "source_file": row.source,
        "compile_cmd": shlex.join(row.compile) if row.compile else None,
        "run_cmd": shlex.join(row.run_command(128 << 20)),
    }
