"""Problem import from JSON, zip and directory; validation messages name the field."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

import store
from store import ProblemError

APLUSB = {
    "slug": "aplusb",
    "title": "A+B",
    "statement": "Add *two* numbers.",
    "time_limit": 1.0,
    "memory_limit": "256M",
    "checker": {"type": "tokens"},
    "tests": [
        {"input": "1 2\n", "output": "3\n", "group": "main", "points": 10},
        {"input": "5 5\n", "output": "10\n", "group": "main", "points": 10},
    ],
}


def test_import_from_json_with_defaults(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        p = store.import_problem(s, {"slug": "x", "tests": [{"input": "a", "output": "b"}]})
        s.commit()
        assert (p.title, p.time_limit, p.memory_limit) == ("x", 1.0, 256 << 20)
        assert p.checker == {"type": "tokens"} and p.stop_on_failure is True
        assert [(t.index, t.input, t.output, t.group, t.points) for t in p.tests] == [
            (1, b"a", b"b", None, 1.0)
        ]


def test_reimport_replaces_tests_and_round_trips(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        store.import_problem(s, APLUSB)
        s.commit()
        changed = {**APLUSB, "title": "Sum", "tests": APLUSB["tests"][:1]}
        p = store.import_problem(s, changed)
        s.commit()
        assert p.title == "Sum" and len(p.tests) == 1 and p.max_score == 10
        d = store.problem_to_dict(p)
        assert d["tests"] == [{"input": "1 2\n", "output": "3\n", "group": "main", "points": 10.0}]
        assert store.validate(d).memory_limit == 256 << 20


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_zip_with_top_folder_and_metadata(sessions: sessionmaker[Session]) -> None:
    meta = {"slug": "z", "checker": "lines", "tests": [{"group": "g", "points": 3}, {}]}
    data = _zip(
        {
            "z/problem.json": json.dumps(meta),
            "z/tests/10.in": "ten",
            "z/tests/10.out": "TEN",
            "z/tests/2.in": "two",
            "z/tests/2.out": "TWO",
            "z/notes.txt": "ignored",
        }
    )
    with sessions() as s:
        p = store.import_problem(s, store.load_archive(data))
        s.commit()
        # Numeric order, not text order: 2 before 10.
        assert [(t.input, t.group, t.points) for t in p.tests] == [
            (b"two", "g", 3.0),
            (b"ten", None, 1.0),
        ]
        assert p.checker == {"type": "lines"}


def test_directory_import(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "problem.json").write_text(json.dumps({"slug": "d"}))
    (tmp_path / "tests" / "1.in").write_text("1 1\n")
    (tmp_path / "tests" / "1.out").write_text("2\n")
    spec = store.validate(store.load_directory(tmp_path))
    assert spec.slug == "d" and spec.tests[0].output == b"2\n"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": True}, "time_limit"),
        ({"memory_limit": "lots"}, "size"),
        ({"checker": {"type": "magic"}}, "checker.type"),
        ({"checker": {"type": "float", "abs": -1}}, "checker.abs"),
        ({"checker": {"type": "custom", "language": "cpp"}}, "checker"),
        ({"tests": []}, "tests"),
        ({"tests": [{"input": "1", "output": "1", "points": -1}]}, "points"),
        ({"stop_on_failure": "yes"}, "stop_on_failure"),
    ],
)
def test_validation_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ProblemError, match=field):
        store.validate({**APLUSB, **change})


def test_archive_errors() -> None:
    with pytest.raises(ProblemError, match="not a zip"):
        store.load_archive(b"nope")
    with pytest.raises(ProblemError, match=r"problem\.json is missing"):
        store.load_archive(_zip({"tests/1.in": "1", "tests/1.out": "1"}))
    with pytest.raises(ProblemError, match=r"tests/1\.out"):
        store.load_archive(_zip({"problem.json": '{"slug": "a"}', "tests/1.in": "1"}))


@pytest.mark.parametrize(
    ("text", "size"), [("256M", 256 << 20), ("64k", 64 << 10), ("1G", 1 << 30), (1000, 1000)]
)
def test_parse_size(text: str | int, size: int) -> None:
    assert store.parse_size(text) == size


INTERACTOR = "import sys\nprint(open(sys.argv[1]).read())\n"


def test_interactive_archive_names_its_interactor_file(sessions: sessionmaker[Session]) -> None:
    meta = {"slug": "guess", "interactor": {"language": "python3", "file": "interactor.py"}}
    data = _zip(
        {
            "guess/problem.json": json.dumps(meta),
            "guess/interactor.py": INTERACTOR,
            "guess/tests/1.in": "5\n",  # no 1.out: an interactor may need no answer
            "guess/tests/2.in": "7\n",
            "guess/tests/2.out": "seven\n",
        }
    )
    with sessions() as s:
        p = store.import_problem(s, store.load_archive(data))
        s.commit()
        assert p.interactor == {"language": "python3", "source": INTERACTOR}
        assert [(t.input, t.output) for t in p.tests] == [(b"5\n", b""), (b"7\n", b"seven\n")]
        # The JSON form carries the source itself, and imports again as it is.
        again = store.validate(store.problem_to_dict(p))
        assert again.interactor == p.interactor


def test_directory_checker_file(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    checker = {"type": "custom", "language": "python3", "file": "check.py"}
    (tmp_path / "problem.json").write_text(json.dumps({"slug": "d", "checker": checker}))
    (tmp_path / "check.py").write_text("raise SystemExit(0)\n")
    (tmp_path / "tests" / "1.in").write_text("1\n")
    (tmp_path / "tests" / "1.out").write_text("1\n")
    spec = store.validate(store.load_directory(tmp_path))
    assert spec.checker == {
        "type": "custom",
        "language": "python3",
        "source": "raise SystemExit(0)\n",
    }


@pytest.mark.parametrize(
    ("interactor", "files", "message"),
    [
        ({"language": "python3", "file": "gone.py"}, {}, "'gone.py' is not beside problem.json"),
        ({"language": "python3", "file": "../x.py"}, {}, "interactor.file: the name of a file"),
        ({"language": "c", "file": "i.c", "source": "x"}, {"i.c": "x"}, "either source or file"),
        ({"language": "c", "file": "i.c"}, {"i.c": b"\xff\xfe"}, "not UTF-8"),
    ],
)
def test_interactor_file_errors(
    interactor: dict[str, str], files: dict[str, str | bytes], message: str
) -> None:
    content = {"problem.json": json.dumps({"slug": "g", "interactor": interactor}),
               "tests/1.in": "1", **files}  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in content.items():
            zf.writestr(name, text)
    with pytest.raises(ProblemError, match=re.escape(message)):
        store.load_archive(buf.getvalue())


@pytest.mark.parametrize(
    ("interactor", "message"),
    [
        ({"language": "python3"}, "interactor: language and source must be non-empty strings"),
        ({"source": "print(1)"}, "interactor: language and source"),
        ("print(1)", "interactor: an object with language and source"),
        ({"language": "python3", "file": "i.py"}, "interactor.file: only in a zip or directory"),
    ],
)
def test_interactor_validation(interactor: object, message: str) -> None:
    with pytest.raises(ProblemError, match=re.escape(message)):
        store.validate({**APLUSB, "interactor": interactor})
