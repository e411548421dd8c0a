from __future__ import annotations

import dataclasses

import pytest

from worker import languages, run_once
from worker.execution import CompileFailure, RunLimits, compile_source, run_program, sandbox_runner

EXPECTED_IDS = {
    "c", "cpp", "python3", "java", "javascript", "rust", "ruby", "perl", "bash",
    # Installed by `.ci/languages` (judge languages install) where Debian packages them.
    "kotlin", "go", "haskell", "csharp", "pascal", "php", "ocaml", "scala", "lisp", "lua",
    "pypy3", "prolog", "r",
}  # fmt: skip


def test_every_language_of_the_design_is_described() -> None:
    assert {lang.id for lang in languages.LANGUAGES} == EXPECTED_IDS
    for lang in languages.LANGUAGES:
        # Absolute interpreter paths: the box has no pyenv shims or rustup proxies.
        assert lang.run[0].startswith(("/", "./")), lang.id
        assert lang.compile is None or lang.compile[0].startswith("/"), lang.id


def test_only_installed_toolchains_are_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    ruby = languages.get("ruby")
    gone = dataclasses.replace(ruby, requires=("/nonexistent/ruby",))
    table = tuple(gone if lang.id == "ruby" else lang for lang in languages.LANGUAGES)
    monkeypatch.setattr(languages, "LANGUAGES", table)
    monkeypatch.setattr(languages, "_BY_ID", {lang.id: lang for lang in table})
    assert "ruby" not in {d["id"] for d in languages.describe()}
    with pytest.raises(languages.UnknownLanguage, match="not installed"):
        languages.get("ruby")
    with pytest.raises(languages.UnknownLanguage, match="unknown"):
        languages.get("cobol")


def test_java_heap_follows_the_memory_limit() -> None:
    assert "-Xmx256m" in languages.get("java").run_command(256 << 20)


def test_run_once_compiles_and_runs() -> None:
    r = run_once(
        "c", '#include <stdio.h>\nint main(){int a;scanf("%d",&a);printf("%d",a*2);}', "21"
    )
    assert r.compiled and r.result is not None and r.result.stdout == b"42"
    bad = run_once("python3", "def (:\n")
    assert not bad.compiled and "SyntaxError" in bad.compile_output and bad.result is None
    with pytest.raises(ValueError, match="cpu_time"):
        run_once("python3", "print(1)", limits={"cpu_time": 1000})


def test_a_bash_submission_finds_its_other_files_beside_dollar_zero() -> None:
    # `. ${0%/*}/lib.sh`: a multi-file shell submission (BAPCtools' hello) finds its helper
    # through $0, which must name the script's directory.
    lang = languages.get("bash")
    built, output = compile_source(
        sandbox_runner, lang, ". ${0%/*}/lib.sh\ngreet\n", {"lib.sh": b"greet() { echo hi; }\n"}
    )
    assert not isinstance(built, CompileFailure), output
    r = run_program(sandbox_runner, built, RunLimits(2.0, 256 << 20, 1 << 20), stdin=b"")
    assert (r.stdout, r.stderr) == (b"hi\n", b""), r
