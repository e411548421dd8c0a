"""ICPC package programs: output validators, input validators and the package's submissions.

A program is a single source file or a directory of them; its entry point is chosen the way
Kattis and DOMjudge choose (common.entry_point), every other file of the directory rides along
in ``files``. DOMjudge's ``@EXPECTED_RESULTS@:`` and ``@EXPECTED_SCORE@:`` annotations in a
submission override the verdict its folder implies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from store.formats.common import VERDICT_WORDS, entry_point, language_of, program_files
from store.problems import ProblemError

# Checktestdata and viva scripts need their own interpreters, which we do not have.
_UNSUPPORTED = {".ctd": "checktestdata", ".viva": "viva"}
_DOMJUDGE_RESULTS = {
    "correct": "AC", "wrong-answer": "WA", "no-output": "WA", "timelimit": "TLE",
    "run-error": "RE", "output-limit": "OLE", "compiler-error": "CE", "memory-limit": "MLE",
}  # fmt: skip
# DOMjudge's rule: the tag, a colon, then the results to the end of the line.
# DOMjudge also takes verdict words after @EXPECTED_SCORE@.
_EXPECTED = re.compile(r"@EXPECTED_(RESULTS|SCORE)@:[ \t]*([^\n]*)")
_SCORE = re.compile(r"@EXPECTED_SCORE@:[ \t]*([-+0-9.eE]+)")
# Folders of submissions the spec names that are not one verdict.
_FOLDERS = {
    # A scoring problem's partial solution: our verdict is the first failing test's, so any
    # verdict but CE is its; verify then checks the score when the package states one.
    "partially_accepted": ["AC", "WA", "TLE", "RE", "MLE", "OLE"],
    # The ICPC format has no memory verdict: exceeding the memory limit is a run-time error
    # (problemtools' hello ships its memory hog under run_time_error).
    "run_time_error": ["RE", "MLE"],
    "rejected": ["WA", "TLE", "RE", "MLE", "OLE"],  # 2023-07: any verdict but accepted
}


#: worker.languages.PACKAGE_SCRIPTS: a program directory with build and/or run scripts.
SCRIPTS_LANGUAGE = "icpc-scripts"
_NO_BUILD = ": # the package gives no build script: its run file is the program\n"


def program(path: Path, what: str, flags: list[str]) -> dict[str, Any]:
    """A PROGRAM mapping (icpc protocol) from a source file or a directory of sources."""
    if path.is_dir() and ((path / "build").is_file() or (path / "run").is_file()):
        return _scripts_program(path, what, flags)
    if path.is_dir():
        raw = program_files(path)
        texts = {n: _decode(b) for n, b in raw.items()}
        sources = {n: t for n, t in texts.items() if t is not None and language_of(n, t)}
        if not sources:
            raise ProblemError(f"{what}: no source file with a known extension in it")
        languages = sorted({str(language_of(n, t)) for n, t in sources.items()}, key=_language_rank)
        language = languages[0]
        main = entry_point(sources, language)
        files: dict[str, Any] = {n: b for n, b in raw.items() if n != main}
        source = sources[main]
    else:
        text = _decode(path.read_bytes())
        found = language_of(path.name, text)
        if found is None or text is None:
            raise ProblemError(f"{what}: not a source file with a known extension")
        language, source, files = found, text, {}
    out: dict[str, Any] = {"language": language, "source": source, "protocol": "icpc"}
    if files:
        out["files"] = files
    if flags:
        out["flags"] = flags
    return out


def _scripts_program(path: Path, what: str, flags: list[str]) -> dict[str, Any]:
    """A program directory with ``build`` and/or ``run``: they, not the file extensions, say
    how it is built and run ("Other programs" of the package format; it is built and run in a
    directory of its own, worker.languages.PACKAGE_SCRIPTS)."""
    raw = program_files(path)
    build = raw.pop("build", None)
    source = _decode(build) if build is not None else _NO_BUILD
    if source is None:
        raise ProblemError(f"{what}/build: not a text file (a POSIX shell script is expected)")
    if build is None and "run" not in raw:
        raise ProblemError(f"{what}: no run file and no build script to make one")
    out: dict[str, Any] = {
        "language": SCRIPTS_LANGUAGE,
        "source": source,
        "protocol": "icpc",
        "files": raw,
    }
    if flags:
        out["flags"] = flags
    return out


def _language_rank(language: str) -> tuple[int, str]:
    # A directory mixing a C++ validator with a Python helper: the compiled one is the program.
    order = ("cpp", "c", "java", "python3")
    return (order.index(language) if language in order else len(order), language)


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def programs_in(
    directory: Path, what: str, flags: list[str], skipped: list[str]
) -> list[dict[str, Any]]:
    """Every program in a validators directory: its files and subdirectories, one each."""
    out: list[dict[str, Any]] = []
    for p in sorted(directory.iterdir()):
        if p.name.startswith(".") or p.is_symlink():
            continue
        name = f"{what}/{p.name}"
        if p.suffix in _UNSUPPORTED:
            skipped.append(f"{name}: {_UNSUPPORTED[p.suffix]} validators are not supported")
            continue
        if p.is_file() and language_of(p.name) is None:
            skipped.append(f"{name}: unknown file type")
            continue
        out.append(program(p, name, flags))
    return out


def output_validator(root: Path, flags: list[str], skipped: list[str]) -> dict[str, Any] | None:
    """The custom output validator: ``output_validator/`` (2023-07) or ``output_validators/``
    (legacy), each holding the sources or one directory of them; None when there is none."""
    for folder in ("output_validator", "output_validators"):
        if (root / folder).is_dir():
            return _validator_in(root / folder, folder, flags, skipped)
    return None


def _validator_in(many: Path, folder: str, flags: list[str], skipped: list[str]) -> dict[str, Any]:
    entries = [p for p in sorted(many.iterdir()) if not p.name.startswith(".")]
    if not entries:
        raise ProblemError(f"{folder}/: empty, but validation is custom")
    # One validator directory, or the sources of one validator directly in the folder.
    if len(entries) == 1 and entries[0].is_dir():
        return program(entries[0], f"{folder}/{entries[0].name}", flags)
    if any(p.is_file() and language_of(p.name) for p in entries):
        return program(many, folder, flags)
    first = next(p for p in entries if p.is_dir())
    skipped.append(f"{folder}/: only {first.name} is used (several validators)")
    return program(first, f"{folder}/{first.name}", flags)


def submissions(root: Path, skipped: list[str]) -> list[dict[str, Any]]:
    base = root / "submissions"
    if not base.is_dir():
        return []
    out: list[dict[str, Any]] = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink()):
        word = VERDICT_WORDS.get(folder.name.lower())
        implied = _FOLDERS.get(folder.name) or ([word] if word else None)
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            name = entry.relative_to(base).as_posix()
            sub = _submission(entry, name, implied, skipped)
            if sub is not None:
                out.append(sub)
    return out


def _submission(
    entry: Path, name: str, implied: list[str] | None, skipped: list[str]
) -> dict[str, Any] | None:
    if entry.is_dir():
        texts = {n: t for n, b in program_files(entry).items() if (t := _decode(b)) is not None}
        known = {n: lang for n, t in texts.items() if (lang := language_of(n, t, foreign=True))}
        if not known:
            skipped.append(f"submissions/{name}: no source file with a known extension")
            return None
        language = sorted(set(known.values()), key=_language_rank)[0]
        main = entry_point({n: texts[n] for n, lang in known.items() if lang == language}, language)
        source, files = texts[main], {n: t for n, t in texts.items() if n != main}
    else:
        text = _decode(entry.read_bytes())
        found = language_of(entry.name, text, foreign=True) if text is not None else None
        if found is None or text is None:
            skipped.append(f"submissions/{name}: unknown language")
            return None
        language, source, files = found, text, {}
    try:
        # DOMjudge reads the tag from any file of the submission: the entry point first.
        expected = _annotated_in([source, *(files[n] for n in sorted(files))], name) or implied
    except ValueError as e:  # a package's own mistake in one submission: skip it, say why
        skipped.append(str(e))
        return None
    if not expected:
        skipped.append(f"submissions/{name}: folder {name.split('/')[0]!r} names no verdict")
        return None
    sub: dict[str, Any] = {
        "name": name,
        "language": language,
        "source": source,
        "expected": expected,
    }
    if files:
        sub["files"] = files
    m = _SCORE.search(source)
    if m:
        try:
            sub["expected_score"] = float(m.group(1))
        except ValueError:
            raise ProblemError(f"submissions/{name}: @EXPECTED_SCORE@ is not a number") from None
    return sub


def _annotated_in(texts: list[str], name: str) -> list[str] | None:
    # DOMjudge refuses a submission whose tags it cannot read one way only: a tag twice in a
    # file, or tags in two of its files (hello's check_manually examples test exactly that).
    annotated = [text for text in texts if _EXPECTED.search(text)]
    if len(annotated) > 1:
        raise ValueError(f"submissions/{name}: @EXPECTED_RESULTS@ in more than one file")
    return _annotated(annotated[0], name) if annotated else None


def _annotated(source: str, name: str) -> list[str] | None:
    tags = [m.group(1) for m in _EXPECTED.finditer(source)]
    verdict_tags = [m for m in _EXPECTED.finditer(source) if not _SCORE.match(m.group(0))]
    if len(set(tags)) < len(tags) or len(verdict_tags) > 1:
        raise ValueError(f"submissions/{name}: more than one @EXPECTED_RESULTS@ or "
                         "@EXPECTED_SCORE@ in a file")
    m = verdict_tags[0] if verdict_tags else None
    if not m:
        return None
    verdicts: list[str] = []
    for word in re.split(r"[,\s]+", m.group(2)):
        word = word.strip("*/#;'\"(){}")  # comment closers on the same line
        if not word or word.startswith(("*/", "-->")):
            continue
        key = word.lower()
        verdict = _DOMJUDGE_RESULTS.get(key) or VERDICT_WORDS.get(key)
        if verdict is None:
            raise ValueError(f"submissions/{name}: @EXPECTED_RESULTS@: unknown result {word!r}")
        if verdict not in verdicts:
            verdicts.append(verdict)
    if "RE" in verdicts and "MLE" not in verdicts:
        verdicts.append("MLE")  # the format has no memory verdict: running out is an RTE
    return verdicts or None
