"""The programs of a Polygon package: checker, interactor, validators and solutions.

Polygon names a program by ``<source path=... type=...>`` where ``type`` is one of its
compilers (``cpp.g++17``, ``java11``, ``python.3``...); we keep the language id only. Every
program of a testlib package is compiled with the package's resources (``testlib.h`` and
friends) beside it, so each one gets the same ``files``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element  # the type only; parsing is defusedxml's

from store.formats.common import VERDICT_WORDS, language_of, read_text
from store.problems import ProblemError

# Polygon compiler type (before the first dot, digits dropped) -> our language id.
_TYPE_PREFIXES: Mapping[str, str] = {
    "cpp": "cpp", "c": "c", "java": "java", "kotlin": "kotlin", "pas": "pascal",
    "delphi": "pascal", "cs": "csharp", "csharp": "csharp", "go": "go", "rust": "rust", "ruby": "ruby",
    "perl": "perl", "php": "php", "haskell": "haskell", "ocaml": "ocaml", "scala": "scala",
    "js": "javascript", "nodejs": "javascript", "node": "javascript",
}  # fmt: skip
_NOT_PROGRAMS = {".exe", ".sty", ".ftl", ".tex", ".jar", ".class", ".o", ".obj", ".pdf"}
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.+-][A-Za-z0-9_.+ -]{0,127}$")
NON_AC = ["WA", "PE", "TLE", "MLE", "OLE", "RE", "SV"]
_TAGS: Mapping[str, list[str]] = {
    "main": ["AC"],
    "accepted": ["AC"],
    "rejected": NON_AC,
    "time-limit-exceeded-or-accepted": ["TLE", "AC"],
    "time-limit-exceeded-or-memory-limit-exceeded": ["TLE", "MLE"],
}

# std:: checkers as built-ins, used only when the package lacks the checker's source.
_STD_CHECKERS: Mapping[str, dict[str, Any]] = {
    "wcmp": {"type": "tokens"},
    "ncmp": {"type": "tokens"},
    "hcmp": {"type": "tokens"},
    "lcmp": {"type": "lines"},
    "fcmp": {"type": "lines", "space_change_sensitive": True},
    "yesno": {"type": "tokens", "case_sensitive": False},
    "nyesno": {"type": "tokens", "case_sensitive": False},
    "rcmp": {"type": "float", "abs": 1.5e-6, "rel": 1.5e-6},
    "acmp": {"type": "float", "abs": 1.5e-6, "rel": 0.0},
    "dcmp": {"type": "float", "abs": 1e-6, "rel": 1e-6},
    "rcmp4": {"type": "float", "abs": 1e-4, "rel": 1e-4},
    "rcmp6": {"type": "float", "abs": 1e-6, "rel": 1e-6},
    "rcmp9": {"type": "float", "abs": 1e-9, "rel": 1e-9},
}


def language_of_type(kind: str | None, path: str) -> str | None:
    """Our language id for a Polygon source type, else by the file's extension."""
    if kind:
        kind = kind.lower()
        if kind.startswith(("python", "pypy")):
            # python.3, python3, pypy.3-64, python.pypy3; Python 2 has no id here.
            if "3" not in kind:
                return None
            return "pypy3" if "pypy" in kind else "python3"
        head = kind.partition(".")[0].rstrip("0123456789")
        lang = _TYPE_PREFIXES.get(head)
        if lang is not None:
            return lang
    return language_of(path)


def resources(root: Path, problem: Element) -> dict[str, bytes]:
    """The files every program is compiled beside: the listed resources and every other
    plain file in ``files/`` that is neither a program's source nor a binary, by base name."""
    sources = {norm_path(s.get("path", "")) for s in problem.iter("source")}
    sources |= {norm_path(b.get("path", "")) for b in problem.iter("binary")}
    paths = [norm_path(f.get("path", "")) for f in problem.findall("./files/resources/file")]
    folder = root / "files"
    if folder.is_dir():
        paths += sorted(f"files/{p.name}" for p in folder.iterdir())
    out: dict[str, bytes] = {}
    for rel in paths:
        name = Path(rel).name
        if rel in sources or name in out or not _FILE_NAME.match(name):
            continue
        if Path(name).suffix.lower() in _NOT_PROGRAMS or language_of(name) is not None:
            continue  # statement templates, binaries and other programs' sources
        path = inside(root, rel, "problem.xml: files/resources")
        if path.is_file() and not path.is_symlink():
            out[name] = path.read_bytes()
    return out


def refuse_graders(problem: Element) -> None:
    """An IOI-style grader (a resource compiled with the solution: ``for-types`` and an
    ``<asset name="solution"/>``) is not supported: without it the solutions do not even
    compile, so the package is refused rather than its solutions judged CE."""
    for element in problem.findall("./files/resources/file"):
        assets = element.find("assets")
        if element.get("for-types") or (
            assets is not None and assets.find("asset[@name='solution']") is not None
        ):
            raise ProblemError(
                f"problem.xml: resource {norm_path(element.get('path', ''))}: graders compiled "
                "with the solution are not supported"
            )


def program(
    root: Path, element: Element, what: str, files: Mapping[str, bytes]
) -> dict[str, Any] | None:
    """A testlib PROGRAM from an element holding ``<source>``; None when it has none."""
    source = element.find("source")
    if source is None or not source.get("path"):
        return None
    rel = norm_path(source.get("path", ""))
    path = inside(root, rel, f"problem.xml: {what} source")
    if not path.is_file():
        raise ProblemError(f"problem.xml: {what} source {rel}: no such file in the package")
    language = language_of_type(source.get("type"), rel)
    if language is None:
        raise ProblemError(f"problem.xml: {what} source {rel}: unknown type {source.get('type')}")
    out: dict[str, Any] = {
        "language": language,
        "source": read_text(path, rel),
        "protocol": "testlib",
    }
    extra = {k: v for k, v in files.items() if k != path.name}
    if extra:
        out["files"] = extra
    return out


def checker(root: Path, assets: Element | None, files: Mapping[str, bytes]) -> dict[str, Any]:
    element = assets.find("checker") if assets is not None else None
    if element is None:
        return {"type": "tokens"}
    kind = element.get("type", "testlib")
    if kind != "testlib":
        raise ProblemError(f"problem.xml: checker type {kind!r}: only testlib is supported")
    source = element.find("source")
    rel = norm_path(source.get("path", "")) if source is not None else ""
    if rel and inside(root, rel, "problem.xml: checker source").is_file():
        prog = program(root, element, "checker", files)
        assert prog is not None
        return {"type": "custom", **prog}
    name = element.get("name", "")
    std = re.fullmatch(r"std::(\w+)(?:\.cpp)?", name)
    if std and std.group(1) in _STD_CHECKERS:
        return dict(_STD_CHECKERS[std.group(1)])
    if rel:
        raise ProblemError(f"problem.xml: checker source {rel}: no such file in the package")
    raise ProblemError(f"problem.xml: checker {name or '(unnamed)'}: no source and not a std::")


def interactor(
    root: Path, assets: Element | None, files: Mapping[str, bytes]
) -> dict[str, Any] | None:
    element = assets.find("interactor") if assets is not None else None
    if element is None:
        return None
    prog = program(root, element, "interactor", files)
    if prog is None:
        raise ProblemError("problem.xml: interactor: no <source path=...>")
    return prog


def validators(
    root: Path, assets: Element | None, files: Mapping[str, bytes]
) -> list[dict[str, Any]]:
    if assets is None:
        return []
    out = []
    for i, element in enumerate(assets.findall("./validators/validator"), 1):
        prog = program(root, element, f"validator {i}", files)
        if prog is not None:
            out.append(prog)
    return out


def solutions(root: Path, assets: Element | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The package's solutions with their expected verdicts, and what was skipped (why)."""
    if assets is None:
        return [], []
    out: list[dict[str, Any]] = []
    skipped: list[str] = []
    for element in assets.findall("./solutions/solution"):
        tag = element.get("tag", "")
        source = element.find("source")
        rel = norm_path(source.get("path", "")) if source is not None else ""
        if not rel:
            continue
        expected = _expected(tag)
        language = language_of_type(source.get("type") if source is not None else None, rel)
        path = inside(root, rel, "problem.xml: solution source")
        if expected is None:
            skipped.append(f"{rel}: tag {tag!r}")
        elif language is None:
            skipped.append(f"{rel}: language {source.get('type') if source is not None else ''}")
        elif not path.is_file():
            raise ProblemError(f"problem.xml: solution {rel}: no such file in the package")
        else:
            out.append(
                {
                    "name": rel,
                    "language": language,
                    "source": read_text(path, rel),
                    "expected": list(expected),
                }
            )
    return out, skipped


def _expected(tag: str) -> list[str] | None:
    if tag in _TAGS:
        return _TAGS[tag]
    verdict = VERDICT_WORDS.get(tag)
    return [verdict] if verdict is not None and tag != "failed" else None


def norm_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def inside(root: Path, rel: str, what: str) -> Path:
    """``root / rel``, refusing a path that leaves the package."""
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts:
        raise ProblemError(f"{what} {rel!r}: not a path inside the package")
    return root.joinpath(*parts)
