"""Turning uploads into problem mappings: JSON bodies, problem zips, and bare test zips.

Errors are split the way the API answers them: bytes that are not a zip or not JSON at all are
a 400 (malformed), a well-formed upload describing an invalid problem is a 422.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from typing import Any

import store
from store.problems import ProblemSpec
from web.errors import ApiError
from worker import languages

_TEST_NAME = re.compile(r"^(?:.*/)?(\d+)\.(in|out)$")
# Reading a damaged archive member can fail in any of these ways; all mean "bad upload".
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)
MAX_UNPACKED = store.problems.MAX_ARCHIVE_BYTES


def parse_json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "the request body is not valid JSON") from None
    except _NotFinite as e:
        raise ApiError(422, f"{e} is not a number JSON allows") from None
    if not isinstance(value, dict):
        raise ApiError(422, "a problem is a JSON object")
    try:
        # A lone surrogate ("\ud800") parses, but no database or box can take it.
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ApiError(422, "a string contains a lone surrogate (not valid Unicode)") from None
    return value


class _NotFinite(ValueError):
    pass


def _no_constant(name: str) -> Any:
    # Python's json takes NaN and Infinity; they would reach limits and points as floats.
    raise _NotFinite(name)


def problem_from_zip(data: bytes) -> dict[str, Any]:
    """``problem.json`` + ``tests/N.in``/``tests/N.out`` (the store's archive layout)."""
    _check_zip(data)
    try:
        return store.load_archive(data)
    except store.ArchiveTooLarge as e:
        raise ApiError(413, str(e)) from None
    except store.ProblemError as e:
        raise ApiError(422, str(e)) from None
    except _ZIP_ERRORS as e:
        raise ApiError(400, f"damaged zip archive: {e}") from None


def tests_from_zip(data: bytes) -> list[dict[str, Any]]:
    """Tests from a zip of ``N.in``/``N.out`` pairs at any depth, in numeric order."""
    _check_zip(data)
    pairs: dict[int, dict[str, bytes]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > MAX_UNPACKED:
                raise ApiError(413, f"the archive unpacks to more than {MAX_UNPACKED >> 20} MiB")
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise ApiError(422, "a file appears twice in the archive")
            for info in infos:
                m = _TEST_NAME.match(info.filename)
                if m:
                    pairs.setdefault(int(m.group(1)), {})[m.group(2)] = zf.read(info)
    except _ZIP_ERRORS as e:
        raise ApiError(400, f"damaged zip archive: {e}") from None
    if not pairs:
        raise ApiError(422, "the archive holds no N.in / N.out files")
    tests = []
    for n in sorted(pairs):
        pair = pairs[n]
        if "in" not in pair or "out" not in pair:
            raise ApiError(422, f"test {n}: both {n}.in and {n}.out are needed")
        tests.append({"input": pair["in"], "output": pair["out"]})
    return tests


def tests_from_json(data: bytes) -> list[dict[str, Any]]:
    """Tests from JSON: a list of test objects, or an object with a ``tests`` list."""
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "the tests file is not valid JSON") from None
    if isinstance(value, dict):
        value = value.get("tests")
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ApiError(422, "tests JSON: a list of {input, output, group, points} objects")
    return value


def _check_zip(data: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ApiError(400, "not a zip archive")


def save_problem(session: Any, data: dict[str, Any]) -> store.Problem:
    """Validate and upsert; ProblemError becomes a 422 naming the bad field."""
    try:
        spec = store.validate(data)
        _check_languages(spec)
        problem = store.import_problem(session, spec)
    except store.ProblemError as e:
        raise ApiError(422, str(e)) from None
    except RecursionError:
        raise ApiError(422, "the problem is nested too deeply") from None
    return problem


def _check_languages(spec: ProblemSpec) -> None:
    """The problem's own programs must be in a language the judge knows: the store cannot
    tell (it knows no languages), and a worker would only find out at the first submission."""
    programs = {"interactor": spec.interactor}
    if spec.checker.get("type") == "custom":
        programs["checker"] = spec.checker
    known = languages.tool_ids()
    for field, program in programs.items():
        if program is not None and program["language"] not in known:
            raise store.ProblemError(
                f"{field}.language: unknown language {program['language']!r}"
                f" (one of {', '.join(known)})"
            )


def import_package(session: Any, data: bytes, *, replace: bool) -> store.Problem:
    """A package zip in any format (store.formats), checked like ``judge problem import``:
    validated, its languages known, its input validators passed, then upserted (the caller
    commits). 400 for a damaged zip, 409 for an existing slug without ``replace``, 422 for an
    invalid package (the message names the file and field)."""
    from sqlalchemy import select

    from store.formats import load_zip
    from worker.package_check import check_inputs

    _check_zip(data)
    try:
        spec = store.validate(load_zip(data))
        _check_languages(spec)
    except store.ArchiveTooLarge as e:
        raise ApiError(413, str(e)) from None
    except store.ProblemError as e:
        status = 400 if str(e).startswith(("not a zip", "damaged zip")) else 422
        raise ApiError(status, str(e)) from None
    except RecursionError:
        raise ApiError(422, "the problem is nested too deeply") from None
    exists = session.scalars(select(store.Problem.id).where(store.Problem.slug == spec.slug))
    if exists.first() is not None and not replace:
        raise ApiError(409, f"problem {spec.slug!r} exists; ?replace=true to overwrite")
    try:
        check_inputs(spec)  # sandboxed, before any write
    except store.ProblemError as e:
        raise ApiError(422, str(e)) from None
    return store.import_problem(session, spec)
