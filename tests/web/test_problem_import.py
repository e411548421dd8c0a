"""judge problem import: formats through store.formats, --replace, input validators at import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import store
from web import cli

VALIDATOR = "import sys\nn = int(sys.stdin.read())\nsys.exit(42 if n >= 0 else 43)\n"


def _package(root: Path, slug: str, inputs: list[str], validator: bool = False) -> Path:
    (root / "tests").mkdir(parents=True)
    meta: dict[str, object] = {"slug": slug, "title": "T"}
    if validator:
        meta["input_validators"] = [
            {"language": "python3", "source": VALIDATOR, "protocol": "icpc"}
        ]
    (root / "problem.json").write_text(json.dumps(meta))
    for i, text in enumerate(inputs, 1):
        (root / "tests" / f"{i}.in").write_text(text)
        (root / "tests" / f"{i}.out").write_text(text)
    return root


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/j.db"
    monkeypatch.setenv("JUDGE_DATABASE_URL", url)
    return url


def _slugs(url: str) -> list[str]:
    with store.session_factory(store.make_engine(url))() as s:
        return list(s.scalars(select(store.Problem.slug)))


def test_import_replace_and_refuse(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "p", "p1", ["1\n", "2\n"])
    assert cli.main(["problem", "import", str(pkg)]) == 0
    assert "imported p1: T (2 tests, native" in capsys.readouterr().out
    assert cli.main(["problem", "import", str(pkg)]) == 2
    assert "problem 'p1' exists; --replace to overwrite" in capsys.readouterr().err
    assert cli.main(["problem", "import", "--replace", str(pkg)]) == 0
    assert _slugs(db) == ["p1"]


def test_validator_rejects_bad_test_and_nothing_is_written(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "p", "p2", ["1\n", "-5\n"], validator=True)
    assert cli.main(["problem", "import", str(pkg)]) == 2
    assert "test 2: rejected by input validator 1" in capsys.readouterr().err
    assert _slugs(db) == []


def test_import_zip_with_top_folder(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    pkg = _package(tmp_path / "src" / "p3", "p3", ["1\n"], validator=True)
    archive = shutil.make_archive(str(tmp_path / "p3"), "zip", pkg.parent)
    assert cli.main(["problem", "import", archive]) == 0
    assert "imported p3" in capsys.readouterr().out
    assert _slugs(db) == ["p3"]


def _icpc_zip(name: str, with_tests: bool = True) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{name}/problem.yaml", f"name: {name}\nvalidation: default\n"
                   "validator_flags: float_tolerance 1e-6\nlimits:\n  time_limit: 1\n")  # fmt: skip
        if with_tests:
            z.writestr(f"{name}/data/sample/1.in", "1 2\n")
            z.writestr(f"{name}/data/sample/1.ans", "3\n")
            z.writestr(f"{name}/data/secret/1.in", "2 2\n")
            z.writestr(f"{name}/data/secret/1.ans", "4.0\n")
        z.writestr(f"{name}/problem_statement/problem.pdf", b"%PDF-1.4 not really\n")
    return buf.getvalue()


def test_api_import_icpc_zip(stack: Any) -> None:
    zipped = {"content": _icpc_zip("zsum"), "headers": {"Content-Type": "application/zip"}}
    with stack.client("admin") as c:
        first = c.post("/api/problems/import", **zipped)
        again = c.post("/api/problems/import", **zipped)
        replaced = c.post("/api/problems/import?replace=true", **zipped)
        damaged = c.post("/api/problems/import", content=b"PK\x03\x04 broken",
                         headers={"Content-Type": "application/zip"})  # fmt: skip
        empty = c.post("/api/problems/import", content=_icpc_zip("zempty", with_tests=False),
                       headers={"Content-Type": "application/zip"})  # fmt: skip
        form = c.post("/api/problems/import?replace=true",
                      files={"archive": ("p.zip", _icpc_zip("zsum"), "application/zip")})  # fmt: skip
        graded = c.post("/api/submissions?wait=true", json={
            "problem": "zsum", "language": "python3",
            "source": "print(float(sum(map(int, input().split()))))"})  # fmt: skip
    with stack.client("alice") as c:
        refused = c.post("/api/problems/import", **zipped)
        page = c.get("/problems/zsum")
        pdf = c.get("/problems/zsum/files/statement.pdf")
        missing = c.get("/problems/zsum/files/secret.ans")
    # The statement PDF is offered on the problem page; nothing else is served from there.
    assert "/problems/zsum/files/statement.pdf" in page.text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert missing.status_code == 404
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["slug"] == "zsum" and body["checker_type"] == "tokens"
    assert again.status_code == 409 and "replace" in again.json()["detail"]
    assert replaced.status_code == 201 and form.status_code == 201, form.text
    assert damaged.status_code == 400, damaged.text
    assert empty.status_code == 422 and "test" in empty.json()["detail"], empty.text
    assert refused.status_code == 403
    # The ICPC default comparison with its float tolerance: "3.0" for "3", "4.0" for "4.0".
    assert graded.json()["verdict"] == "AC", graded.text
