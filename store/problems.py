"""Problems in and out of the database: validate the JSON form (DESIGN 3.4) and upsert it.

Accepted forms: a mapping (the JSON of ``POST /api/problems``), a zip archive and a directory, the
latter two holding ``problem.json`` (every field but the tests' data) and ``tests/N.in`` +
``tests/N.out``. ``problem.json`` may still list ``tests`` without ``input``/``output`` to give each
numbered test its ``group`` and ``points``, matched by order. In an archive or directory, the
interactor and a custom checker may name a source file beside ``problem.json`` with ``file``
instead of carrying ``source`` (``"interactor": {"language": "cpp", "file": "interactor.cpp"}``),
and an interactive problem's ``tests/N.out`` is optional (its interactor may need no answer).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import PackageSubmission, Problem, ProblemFile, TestCase

DEFAULT_MEMORY_LIMIT = 256 << 20
DEFAULT_OUTPUT_LIMIT = 16 << 20
CHECKER_TYPES = ("exact", "tokens", "lines", "float", "custom")
PROTOCOLS = ("testlib", "icpc")
_TOLERANCES = ("float_relative_tolerance", "float_absolute_tolerance", "float_tolerance")
_VERDICTS = ("AC", "WA", "PE", "TLE", "MLE", "OLE", "RE", "SV", "CE", "IE")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.+-][A-Za-z0-9_.+ -]{0,127}$")
MAX_ARCHIVE_BYTES = 512 << 20  # uncompressed; a zip bomb stops here, not at the disk's end
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGkmg]?)(?:i?[Bb])?\s*$")
_TEST_FILE = re.compile(r"^(?:.*/)?tests/(\d+)\.(in|out)$")


#: What a non-admin sees of each test's result (web.visibility): details of samples only (the
#: default), details of every test, or of hidden tests nothing but the verdict.
TEST_DETAILS = ("samples", "all", "verdicts")


def shows_totals(policy: str, *, admin: bool) -> bool:
    """Whether a viewer may see a submission's time and memory (the maxima over its tests,
    hidden ones too): not a non-admin's under ``verdicts``, wherever they are shown (pages,
    API, history, webhooks)."""
    return admin or policy != "verdicts"


class ProblemError(ValueError):
    """The problem description is invalid; the message says which field and why."""


class ArchiveTooLarge(ProblemError):
    """An archive that unpacks beyond the bound (a zip bomb): HTTP 413, not 422."""


#: The largest size taken (1 TiB): far above any limit, far below what a BIGINT column holds.
MAX_SIZE = 1 << 40


def _number(v: Any) -> bool:
    """A finite int or float, not a bool (JSON's NaN and Infinity are floats too)."""
    return not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v)


def parse_size(value: int | float | str) -> int:
    """Bytes from ``268435456``, ``"256M"``, ``"64k"`` or ``"1G"`` (binary multiples)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ProblemError(f"not a size: {value!r}")
    if isinstance(value, int | float):
        if not _number(value) or not 0 < value <= MAX_SIZE:
            raise ProblemError(f"size must be more than 0 and at most 1 TiB: {value!r}")
        return int(value)
    m = _SIZE.match(value)
    if not m:
        raise ProblemError(f"not a size: {value!r} (use bytes or a number with K, M or G)")
    factor = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    size = int(float(m.group(1)) * factor)
    if not 0 < size <= MAX_SIZE:
        raise ProblemError(f"size must be more than 0 and at most 1 TiB: {value!r}")
    return size


@dataclass(frozen=True)
class TestSpec:
    input: bytes
    output: bytes
    group: str | None
    points: float
    sample: bool = False
    name: str | None = None


@dataclass(frozen=True)
class SubmissionSpec:
    """A submission the package ships, with the verdicts it must get (judge problem verify)."""

    name: str
    language: str
    source: str
    files: dict[str, str] | None
    expected: tuple[str, ...]
    expected_score: float | None = None


@dataclass(frozen=True)
class ProblemSpec:
    slug: str
    title: str
    statement: str
    time_limit: float
    memory_limit: int
    output_limit: int
    checker: dict[str, Any]
    interactor: dict[str, Any] | None
    stop_on_failure: bool
    tests: tuple[TestSpec, ...]
    scoring: dict[str, Any] | None = None
    limits: dict[str, Any] | None = None
    package: dict[str, Any] | None = None
    input_validators: tuple[dict[str, Any], ...] = ()
    submissions: tuple[SubmissionSpec, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict)
    test_details: str = "samples"


def validate(data: Mapping[str, Any]) -> ProblemSpec:
    """Check a problem mapping and fill in defaults; raises ProblemError naming the bad field."""
    slug = data.get("slug")
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise ProblemError("slug: 1-64 characters of a-z, 0-9, '-' and '_', starting alphanumeric")
    title = data.get("title", slug)
    statement = data.get("statement", "")
    if not isinstance(title, str) or not isinstance(statement, str):
        raise ProblemError("title and statement must be strings")
    time_limit = data.get("time_limit", 1.0)
    if not _number(time_limit):
        raise ProblemError("time_limit: a number of seconds")
    if not 0.001 <= time_limit <= 60:  # below a millisecond nothing could ever pass
        raise ProblemError("time_limit: at least 0.001 and at most 60 seconds")
    stop = data.get("stop_on_failure", True)
    if not isinstance(stop, bool):
        raise ProblemError("stop_on_failure: true or false")
    tests = tuple(_test(i, t) for i, t in enumerate(_list(data.get("tests"), "tests"), 1))
    if not tests:
        raise ProblemError("tests: at least one test is needed")
    scoring = data.get("scoring")
    if scoring is not None:
        from store import scoring as scoring_tree  # a pure module; imported where it is needed

        try:
            scoring = scoring_tree.validate_tree(scoring, len(tests))
        except ValueError as e:
            raise ProblemError(f"scoring: {e}") from None
    package = data.get("package")
    if package is not None and not isinstance(package, Mapping):
        raise ProblemError("package: an object is expected")
    validators = data.get("input_validators") or []
    test_details = data.get("test_details", "samples")
    if test_details not in TEST_DETAILS:
        raise ProblemError(f"test_details: one of {', '.join(TEST_DETAILS)}")
    return ProblemSpec(
        slug=slug,
        title=title,
        statement=statement,
        time_limit=float(time_limit),
        memory_limit=parse_size(data.get("memory_limit", DEFAULT_MEMORY_LIMIT)),
        output_limit=parse_size(data.get("output_limit", DEFAULT_OUTPUT_LIMIT)),
        checker=_checker(data.get("checker", {"type": "tokens"})),
        interactor=(
            _passes(_program(data["interactor"], "interactor"), data["interactor"], "interactor")
            if data.get("interactor")
            else None
        ),
        stop_on_failure=stop,
        tests=tests,
        scoring=scoring,
        limits=_limits(data.get("limits")),
        package=dict(package) if package is not None else None,
        input_validators=tuple(
            _input_validator(v, f"input_validators[{i}]")
            for i, v in enumerate(_list(validators, "input_validators"), 1)
        ),
        submissions=tuple(
            _submission(i, v)
            for i, v in enumerate(_list(data.get("submissions") or [], "submissions"), 1)
        ),
        files=_files(data.get("files"), "files"),
        test_details=test_details,
    )


_TIME_LIMITS = ("wall_time", "compile_time", "validation_time")
_SIZE_LIMITS = ("compile_memory", "compile_file_size", "validation_memory")
#: What a program's output past output_limit does (sandbox.Limits.output_overflow).
OUTPUT_OVERFLOW = ("kill", "truncate")


def _limits(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ProblemError("limits: an object is expected")
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key in _TIME_LIMITS:
            if not _number(v) or not 0.001 <= v <= 600:
                raise ProblemError(f"limits.{key}: at least 0.001 and at most 600 seconds")
            out[key] = float(v)
        elif key in _SIZE_LIMITS:
            out[key] = parse_size(v)
        elif key == "output_overflow":
            if v not in OUTPUT_OVERFLOW:
                raise ProblemError(f"limits.output_overflow: one of {', '.join(OUTPUT_OVERFLOW)}")
            out[key] = v
        else:
            known = ", ".join((*_TIME_LIMITS, *_SIZE_LIMITS, "output_overflow"))
            raise ProblemError(f"limits.{key}: unknown limit (one of {known})")
    return out or None


def _files(value: Any, field: str) -> dict[str, bytes]:
    """``{name: text | {"base64": ...}}`` -> ``{name: bytes}``; names are plain file names."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProblemError(f"{field}: an object of file name to content")
    out: dict[str, bytes] = {}
    for name, content in value.items():
        if not isinstance(name, str) or not _FILE_NAME.fullmatch(name) or name in (".", ".."):
            raise ProblemError(f"{field}: {name!r} is not a plain file name")
        if isinstance(content, str):
            out[name] = content.encode()
        elif isinstance(content, bytes):
            out[name] = content
        elif isinstance(content, Mapping) and isinstance(content.get("base64"), str):
            try:
                out[name] = base64.b64decode(content["base64"], validate=True)
            except (binascii.Error, ValueError):
                raise ProblemError(f"{field}.{name}: not valid base64") from None
        else:
            raise ProblemError(f"{field}.{name}: text, or an object with base64")
    return out


def encode_files(files: Mapping[str, bytes]) -> dict[str, Any]:
    """The JSON form of :func:`_files`: text where it is UTF-8, base64 otherwise."""
    out: dict[str, Any] = {}
    for name, data in files.items():
        try:
            out[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            out[name] = {"base64": base64.b64encode(data).decode()}
    return out


def program_files(program: Mapping[str, Any]) -> dict[str, bytes]:
    """The extra files of a stored program (checker, interactor, validator) as bytes."""
    return _files(program.get("files"), "files")


def _submission(index: int, v: Any) -> SubmissionSpec:
    field = f"submissions[{index}]"
    if not isinstance(v, Mapping):
        raise ProblemError(f"{field}: an object is expected")
    name, language, source = v.get("name"), v.get("language"), v.get("source")
    if not isinstance(name, str) or not name or len(name) > 255:
        raise ProblemError(f"{field}.name: a non-empty string")
    if not isinstance(language, str) or not isinstance(source, str):
        raise ProblemError(f"{field}: language and source must be strings")
    files = v.get("files")
    if files is not None and (
        not isinstance(files, Mapping)
        or not all(isinstance(k, str) and isinstance(t, str) for k, t in files.items())
    ):
        raise ProblemError(f"{field}.files: an object of file name to text")
    expected = v.get("expected")
    if (
        not isinstance(expected, list)
        or not expected
        or not all(isinstance(e, str) and e in _VERDICTS for e in expected)
    ):
        raise ProblemError(f"{field}.expected: a list of verdicts ({', '.join(_VERDICTS)})")
    score = v.get("expected_score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise ProblemError(f"{field}.expected_score: a number")
    return SubmissionSpec(
        name=name,
        language=language,
        source=source,
        files=dict(files) if files else None,
        expected=tuple(expected),
        expected_score=float(score) if score is not None else None,
    )


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemError(f"{field}: a list is expected")
    return value


def _data(value: Any, field: str) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    raise ProblemError(f"{field}: text is expected")


def _test(index: int, t: Any) -> TestSpec:
    if not isinstance(t, Mapping):
        raise ProblemError(f"tests[{index}]: an object is expected")
    group = t.get("group")
    if group is not None and (not isinstance(group, str) or not group):
        raise ProblemError(f"tests[{index}].group: a non-empty string")
    points = t.get("points", 1)
    if not _number(points) or not 0 <= points <= 1e9:
        raise ProblemError(f"tests[{index}].points: a number from 0 to 1e9")
    sample, name = t.get("sample", False), t.get("name")
    if not isinstance(sample, bool):
        raise ProblemError(f"tests[{index}].sample: true or false")
    if name is not None and (not isinstance(name, str) or len(name) > 255):
        raise ProblemError(f"tests[{index}].name: a string of at most 255 characters")
    return TestSpec(
        input=_data(t.get("input"), f"tests[{index}].input"),
        output=_data(t.get("output", ""), f"tests[{index}].output"),
        group=group,
        points=float(points),
        sample=sample,
        name=name,
    )


def _checker(c: Any) -> dict[str, Any]:
    if isinstance(c, str):
        c = {"type": c}
    if not isinstance(c, Mapping) or c.get("type") not in CHECKER_TYPES:
        raise ProblemError(f"checker.type: one of {', '.join(CHECKER_TYPES)}")
    kind = c["type"]
    if kind == "custom":
        return _passes({"type": kind, **_program(c, "checker")}, c, "checker")
    out: dict[str, Any] = {"type": kind}
    if kind == "float":
        for key in ("abs", "rel"):
            v = c.get(key, 1e-6)
            if not _number(v) or v < 0:
                raise ProblemError(f"checker.{key}: a finite number >= 0")
            out[key] = float(v)
    for key in ("case_sensitive", "space_change_sensitive"):
        if key in c:
            if not isinstance(c[key], bool):
                raise ProblemError(f"checker.{key}: true or false")
            out[key] = c[key]
    for key in _TOLERANCES:
        if key in c:
            v = c[key]
            if not _number(v) or v < 0:
                raise ProblemError(f"checker.{key}: a finite number >= 0")
            out[key] = float(v)
    return out


def _passes(out: dict[str, Any], raw: Mapping[str, Any], field: str) -> dict[str, Any]:
    """ICPC multi-pass: the validator may write feedback_dir/nextpass.in, the next pass's
    input (for an interactive problem, the next conversation's); only the icpc protocol has a
    feedback directory."""
    passes = raw.get("passes", 1)
    if isinstance(passes, bool) or not isinstance(passes, int) or not 1 <= passes <= 100:
        raise ProblemError(f"{field}.passes: a whole number from 1 to 100")
    if passes > 1:
        if out.get("protocol") != "icpc":
            raise ProblemError(f"{field}.passes: only an icpc validator has several passes")
        out["passes"] = passes
    return out


def _input_validator(v: Any, field: str) -> dict[str, Any]:
    """A PROGRAM, and ``test_flags``: {test number: flags} where a test's differ from
    ``flags`` (an ICPC group's own input_validator_flags)."""
    out = _program(v, field)
    test_flags = v.get("test_flags")
    if test_flags:
        if not isinstance(test_flags, Mapping) or not all(
            isinstance(k, str) and k.isdigit() and isinstance(f, list)
            and all(isinstance(x, str) for x in f)
            for k, f in test_flags.items()
        ):  # fmt: skip
            raise ProblemError(f"{field}.test_flags: an object of test number to flags")
        out["test_flags"] = {k: list(f) for k, f in test_flags.items()}
    return out


def _program(p: Any, field: str) -> dict[str, Any]:
    if not isinstance(p, Mapping):
        raise ProblemError(f"{field}: an object with language and source")
    if "file" in p:
        # Only an archive or directory has files to name; the JSON form carries the text.
        raise ProblemError(f"{field}.file: only in a zip or directory; in JSON send source")
    language, source = p.get("language"), p.get("source")
    if not isinstance(language, str) or not isinstance(source, str) or not source:
        raise ProblemError(f"{field}: language and source must be non-empty strings")
    out: dict[str, Any] = {"language": language, "source": source}
    protocol = p.get("protocol", "testlib")
    if protocol not in PROTOCOLS:
        raise ProblemError(f"{field}.protocol: one of {', '.join(PROTOCOLS)}")
    if protocol != "testlib":  # the default stays implicit, as in rows made before protocols
        out["protocol"] = protocol
    if p.get("files"):
        out["files"] = encode_files(_files(p["files"], f"{field}.files"))
    flags = p.get("flags")
    if flags:
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            raise ProblemError(f"{field}.flags: a list of strings")
        out["flags"] = list(flags)
    return out


def import_problem(session: Session, data: Mapping[str, Any] | ProblemSpec) -> Problem:
    """Create the problem, or replace the one with the same slug (tests included).

    The caller commits. Past submissions keep pointing at the problem; rejudge them to grade
    against the new tests.
    """
    spec = data if isinstance(data, ProblemSpec) else validate(data)
    problem = session.scalars(select(Problem).where(Problem.slug == spec.slug)).one_or_none()
    if problem is None:
        problem = Problem(slug=spec.slug)
        session.add(problem)
    elif problem.tests:
        # Delete the old tests before inserting new ones: both would hold the same indexes.
        problem.tests.clear()
        session.flush()
    problem.title = spec.title
    problem.statement = spec.statement
    problem.time_limit = spec.time_limit
    problem.memory_limit = spec.memory_limit
    problem.output_limit = spec.output_limit
    problem.checker = spec.checker
    problem.interactor = spec.interactor
    problem.stop_on_failure = spec.stop_on_failure
    problem.scoring = spec.scoring
    problem.limits = spec.limits
    problem.package = spec.package
    problem.input_validators = list(spec.input_validators) or None
    problem.test_details = spec.test_details
    problem.tests.extend(
        TestCase(
            index=i,
            input=t.input,
            output=t.output,
            group=t.group,
            points=t.points,
            sample=t.sample,
            name=t.name,
        )
        for i, t in enumerate(spec.tests, 1)
    )
    if problem.submissions_shipped or problem.files:
        problem.submissions_shipped.clear()
        problem.files.clear()
        session.flush()
    problem.submissions_shipped.extend(
        PackageSubmission(
            name=sub.name,
            language=sub.language,
            source=sub.source,
            files=sub.files,
            expected=list(sub.expected),
            expected_score=sub.expected_score,
        )
        for sub in spec.submissions
    )
    problem.files.extend(ProblemFile(name=n, data=d) for n, d in sorted(spec.files.items()))
    problem.test_count = len(spec.tests)
    problem.max_score = sum(t.points for t in spec.tests)
    session.flush()
    return problem


def problem_to_dict(problem: Problem, *, with_tests: bool = True) -> dict[str, Any]:
    """The JSON form of a problem, as accepted by :func:`validate` (round-trips)."""
    out: dict[str, Any] = {
        "slug": problem.slug,
        "title": problem.title,
        "statement": problem.statement,
        "time_limit": problem.time_limit,
        "memory_limit": problem.memory_limit,
        "output_limit": problem.output_limit,
        "checker": problem.checker,
        "stop_on_failure": problem.stop_on_failure,
        "max_score": problem.max_score,
    }
    if problem.interactor:
        out["interactor"] = problem.interactor
    if problem.test_details != "samples":
        out["test_details"] = problem.test_details
    for key in ("scoring", "limits", "package", "input_validators"):
        if getattr(problem, key):
            out[key] = getattr(problem, key)
    if with_tests:
        out["tests"] = [
            {
                "input": t.input.decode(errors="replace"),
                "output": t.output.decode(errors="replace"),
                "group": t.group,
                "points": t.points,
                **({"sample": True} if t.sample else {}),
                **({"name": t.name} if t.name else {}),
            }
            for t in problem.tests
        ]
    return out


def load_archive(data: bytes) -> dict[str, Any]:
    """A problem mapping from a zip archive (``problem.json`` + ``tests/N.in``/``tests/N.out``).

    Nothing is extracted to disk, so names in the archive cannot point anywhere.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise ProblemError(f"not a zip archive: {e}") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if sum(i.file_size for i in infos) > MAX_ARCHIVE_BYTES:
            raise ArchiveTooLarge(f"archive unpacks to more than {MAX_ARCHIVE_BYTES >> 20} MiB")
        _refuse_duplicates(i.filename for i in infos)
        top = _meta_dir(i.filename for i in infos)
        files = {i.filename: zf.read(i) for i in infos if _wanted(i.filename, top)}
    return _assemble(files)


def _refuse_duplicates(names: Iterable[str]) -> None:
    # A zip may hold one name twice; which copy "wins" differs between tools, so an admin
    # could review one test and grade with the other.
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ProblemError(f"{name}: appears twice in the archive")
        seen.add(name)


def load_directory(path: str | Path) -> dict[str, Any]:
    """A problem mapping from a directory laid out like the zip archive."""
    root = Path(path)
    found = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    top = _meta_dir(p.relative_to(root).as_posix() for p in found)
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in found
        if _wanted(p.relative_to(root).as_posix(), top)
    }
    return _assemble(files)


def _meta_dir(names: Iterable[str]) -> str | None:
    """The folder (prefix) of the outermost problem.json, or None when there is none."""
    metas = sorted((n for n in names if n.rsplit("/", 1)[-1] == "problem.json"), key=len)
    return metas[0][: -len("problem.json")] if metas else None


def _wanted(name: str, top: str | None) -> bool:
    # Files beside problem.json (sources it may name), and the tests; nothing else is read.
    beside = top is not None and name.startswith(top) and "/" not in name[len(top) :]
    return beside or name.rsplit("/", 1)[-1] == "problem.json" or bool(_TEST_FILE.match(name))


def _source_files(meta: dict[str, Any], files: Mapping[str, bytes], top: str) -> None:
    """Replace ``{"file": name}`` in the interactor and checker by that file's text."""
    for key in ("interactor", "checker"):
        spec = meta.get(key)
        if not isinstance(spec, Mapping) or "file" not in spec:
            continue
        name = spec["file"]
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise ProblemError(f"{key}.file: the name of a file beside problem.json")
        if "source" in spec:
            raise ProblemError(f"{key}: give either source or file, not both")
        if top + name not in files:
            raise ProblemError(f"{key}.file: {name!r} is not beside problem.json")
        try:
            source = files[top + name].decode("utf-8")
        except UnicodeDecodeError:
            raise ProblemError(f"{key}.file: {name!r} is not UTF-8 text") from None
        meta[key] = {k: v for k, v in spec.items() if k != "file"} | {"source": source}


def _assemble(files: Mapping[str, bytes]) -> dict[str, Any]:
    # Archives made by zipping a folder put everything under one top directory: accept both.
    top = _meta_dir(files)
    if top is None:
        raise ProblemError("problem.json is missing")
    try:
        meta = json.loads(files[top + "problem.json"])
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ProblemError(f"problem.json: {e}") from None
    if not isinstance(meta, dict):
        raise ProblemError("problem.json: an object is expected")
    _source_files(meta, files, top)

    pairs: dict[int, dict[str, bytes]] = {}
    for name, content in files.items():
        m = _TEST_FILE.match(name)
        if m:
            pairs.setdefault(int(m.group(1)), {})[m.group(2)] = content
    if not pairs:
        if meta.get("tests"):
            return meta  # tests inline in problem.json
        raise ProblemError("no tests/N.in files")
    numbers = sorted(pairs)
    extra = meta.get("tests") or []
    if not isinstance(extra, list) or (extra and len(extra) != len(numbers)):
        raise ProblemError(f"problem.json lists {len(extra)} tests but there are {len(numbers)}")
    tests = []
    for k, n in enumerate(numbers):
        pair = pairs[n]
        if "in" not in pair or ("out" not in pair and not meta.get("interactor")):
            raise ProblemError(f"test {n}: both tests/{n}.in and tests/{n}.out are needed")
        t = dict(extra[k]) if extra else {}
        t.update(input=pair["in"], output=pair.get("out", b""))
        tests.append(t)
    return {**meta, "tests": tests}
