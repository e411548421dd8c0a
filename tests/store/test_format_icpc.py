"""ICPC problem packages (legacy, 2023-07-draft, DOMjudge) read into the problem mapping."""

from __future__ import annotations

import base64
import io
import os
import stat
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import store
from store import formats
from store.formats import icpc, latex
from store.problems import ProblemError


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def zip_of(root: Path, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, prefix + p.relative_to(root).as_posix())
    return buf.getvalue()


LEGACY_TEX = r"""\problemname{Add \emph{Two}}
Given two integers $a$ and $b$, print $a+b$. See \textbf{below}.
\section*{Input}
\begin{itemize}
\item The line holds $a$ and $b$ ($|a|, |b| \le 10^9$).
\end{itemize}
\begin{verbatim}
  keep {this} \as is
\end{verbatim}
\sampletable{1.in}{1.ans}
"""


def legacy_passfail(root: Path) -> Path:
    return write(root, {
        "problem.yaml": "source: NWERC\nlimits:\n  memory: 512\n  output: 16\n"
                        "  time_multiplier: 3\n  compilation_time: 30\n"
                        "validator_flags: float_tolerance 1e-6 case_sensitive\n",
        "problem_statement/problem.en.tex": LEGACY_TEX,
        "problem_statement/problem.pdf": b"%PDF-1.4 fake",
        "attachments/testing_tool.py": "print('tool')\n",
        "include/cpp/stub.h": "// included\n",
        "data/sample/1.in": "1 2\n", "data/sample/1.ans": "3\n",
        "data/secret/10.in": "5 5\n", "data/secret/10.ans": "10\n",
        "data/secret/02.in": "2 2\n", "data/secret/02.ans": "4\n",
        "data/secret/g/1.in": "0 0\n", "data/secret/g/1.ans": "0\n",
        "data/secret/01.hint": "ignored",
        "input_format_validators/val.py": "import sys\nsys.exit(42)\n",
        "input_validators/check.ctd": "INT(1,10)\n",
        "submissions/accepted/sol.py": "print(sum(map(int, input().split())))\n",
        "submissions/accepted/multi/main.cpp": '#include "u.h"\nint main(){}\n',
        "submissions/accepted/multi/u.h": "int f();\n",
        "submissions/wrong_answer/bad.py": "print(0)\n",
        "submissions/time_limit_exceeded/slow.xyz": "?",
    })  # fmt: skip


def test_legacy_pass_fail_default_validation(tmp_path: Path) -> None:
    root = legacy_passfail(tmp_path / "addtwo")
    assert icpc.detect(root)
    p = icpc.load(root)
    assert p["slug"] == "addtwo"
    assert p["title"] == "Add Two"  # from \problemname: problem.yaml has no name
    assert p["time_limit"] == icpc.PROVISIONAL_TIME_LIMIT
    assert p["package"]["time_limit_from_submissions"] is True
    assert p["package"]["time_multiplier"] == 3 and p["package"]["time_safety_margin"] == 2
    assert p["package"]["version"] == "legacy"
    assert p["memory_limit"] == "512M" and p["output_limit"] == "16M"
    assert p["limits"] == {"compile_time": 30}  # a Kattis package: no output_overflow
    assert p["checker"] == {
        "type": "tokens",
        "case_sensitive": True,
        "space_change_sensitive": False,
        "float_tolerance": 1e-6,
    }
    assert p["stop_on_failure"] is True and "scoring" not in p
    assert [t["name"] for t in p["tests"]] == ["sample/1", "secret/02", "secret/10", "secret/g/1"]
    assert [t["sample"] for t in p["tests"]] == [True, False, False, False]
    assert p["tests"][3]["group"] == "secret/g" and p["tests"][0]["points"] == 1
    assert p["tests"][1]["input"] == b"2 2\n" and p["tests"][1]["output"] == b"4\n"
    # Statement: LaTeX made Markdown, math kept, verbatim untouched, samples appended.
    st = p["statement"]
    assert "Given two integers $a$ and $b$, print $a+b$. See **below**." in st
    assert "## Input" in st and "- The line holds $a$ and $b$ ($|a|, |b| \\le 10^9$)." in st
    assert "```\n  keep {this} \\as is\n```" in st
    assert "sampletable" not in st and "problemname" not in st
    assert "## Sample Input 1\n\n```\n1 2\n```" in st and "## Sample Output 1" in st
    assert base64.b64decode(p["files"]["statement.pdf"]["base64"]) == b"%PDF-1.4 fake"
    assert base64.b64decode(p["files"]["testing_tool.py"]["base64"]) == b"print('tool')\n"
    # Validators: the python one kept, checktestdata skipped and reported.
    assert p["input_validators"] == [
        {"language": "python3", "protocol": "icpc", "source": "import sys\nsys.exit(42)\n"}
    ]
    skipped = p["package"]["skipped"]
    assert any("check.ctd" in s and "checktestdata" in s for s in skipped)
    assert any("slow.xyz" in s for s in skipped)
    assert any(s.startswith("include/") for s in skipped)
    subs = {s["name"]: s for s in p["submissions"]}
    assert set(subs) == {"accepted/sol.py", "accepted/multi", "wrong_answer/bad.py"}
    assert subs["accepted/multi"]["language"] == "cpp"
    assert subs["accepted/multi"]["source"].startswith('#include "u.h"')
    assert subs["accepted/multi"]["files"] == {"u.h": "int f();\n"}
    assert subs["wrong_answer/bad.py"]["expected"] == ["WA"]
    spec = store.validate(p)
    assert len(spec.tests) == 4 and spec.files["statement.pdf"] == b"%PDF-1.4 fake"
    assert spec.checker["float_tolerance"] == 1e-6


def test_load_path_and_zip_detect_icpc(tmp_path: Path) -> None:
    root = legacy_passfail(tmp_path / "addtwo")
    by_path = formats.load_path(root)
    assert by_path["slug"] == "addtwo" and by_path["package"]["format"] == "icpc"
    # Zipped with its folder: the folder names the problem.
    zipped = formats.load_zip(zip_of(root, "addtwo/"))
    assert zipped["slug"] == "addtwo" and len(zipped["tests"]) == 4
    # Zipped flat: the title names it.
    flat = formats.load_zip(zip_of(root))
    assert flat["slug"] == "add-two"
    store.validate(flat)


CHECKER_CPP = """#include <fstream>
#include "helper.h"
int main(int argc, char** argv) { std::ifstream ans(argv[2]); return 42; }
"""


def test_custom_validators_cpp_and_python_2023(tmp_path: Path) -> None:
    common = {
        "data/sample/1.in": "1\n", "data/sample/1.ans": "1\n",
        "data/secret/1.in": "2\n", "data/secret/1.ans": "2\n",
        "data/testdata.yaml": "output_validator_flags: strict 3\n",
    }  # fmt: skip
    cpp = write(tmp_path / "cpp", {
        **common,
        "problem.yaml": "problem_format_version: 2023-07-draft\nname:\n  de: Hallo\n"
                        "  en: Hello\nlimits:\n  time_limit: 2.5\n  memory: 256\n",
        "output_validator/validate.cpp": CHECKER_CPP,
        "output_validator/helper.h": "#pragma once\n",
        "statement/problem.en.md": "# Hello\n\nPrint the number.\n",
    })  # fmt: skip
    p = icpc.load(cpp)
    assert p["title"] == "Hello" and p["time_limit"] == 2.5
    assert "time_limit_from_submissions" not in p["package"]
    assert p["package"]["time_multiplier"] == 2.0 and p["package"]["time_safety_margin"] == 1.5
    assert p["checker"] == {
        "type": "custom",
        "language": "cpp",
        "source": CHECKER_CPP,
        "protocol": "icpc",
        "files": {"helper.h": b"#pragma once\n"},
        "flags": ["strict", "3"],
    }
    assert p["statement"].startswith("# Hello\n\nPrint the number.\n")
    assert "## Sample Input 1" in p["statement"]
    spec = store.validate(p)
    assert spec.checker["files"] == {"helper.h": "#pragma once\n"}

    py = write(tmp_path / "py", {
        **common,
        "problem.yaml": "name: Py\nvalidation: custom\nvalidator_flags: a\n",
        "output_validators/checker/check.py": "import sys\nsys.exit(42)\n",
    })  # fmt: skip
    q = icpc.load(py)
    assert q["checker"]["type"] == "custom" and q["checker"]["language"] == "python3"
    assert q["checker"]["flags"] == ["a", "strict", "3"]
    store.validate(q)


def test_interactive_legacy_with_interaction_samples(tmp_path: Path) -> None:
    root = write(tmp_path / "guess", {
        "problem.yaml": "name: Guess\nvalidation: custom interactive\n",
        "output_validators/guess_validator/validator.cpp": "int main(){return 42;}\n",
        "data/sample/1.in": "5\n",
        "data/sample/1.interaction": "< 10\n> 5\n< correct\n",
        "data/secret/1.in": "7\n", "data/secret/1.ans": "\n",
        "submissions/accepted/a.py": "print(5)\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert p["interactor"]["protocol"] == "icpc" and p["interactor"]["language"] == "cpp"
    assert "checker" not in p
    assert p["tests"][0]["output"] == b"" and p["tests"][0]["sample"] is True
    assert "## Sample Interaction 1\n\n```\n< 10\n> 5\n< correct\n```" in p["statement"]
    assert "Sample Input" not in p["statement"]  # .in of an interactive problem stays hidden
    spec = store.validate(p)
    assert spec.interactor is not None


def test_scoring_legacy_nested_groups(tmp_path: Path) -> None:
    root = write(tmp_path / "sub", {
        "problem.yaml": "name: Subtasks\ntype: scoring\n",
        "data/testdata.yaml": "on_reject: continue\nrange: 0 100\n",
        "data/sample/1.in": "s\n", "data/sample/1.ans": "s\n",
        "data/secret/g1/testdata.yaml": "on_reject: break\naccept_score: 20\ngrader_flags: min\n",
        "data/secret/g1/a.in": "1\n", "data/secret/g1/a.ans": "1\n",
        "data/secret/g1/b.in": "2\n", "data/secret/g1/b.ans": "2\n",
        "data/secret/g2/testdata.yaml": "accept_score: 40\n",
        "data/secret/g2/x/1.in": "3\n", "data/secret/g2/x/1.ans": "3\n",
        "data/secret/g2/0.in": "4\n", "data/secret/g2/0.ans": "4\n",
        "submissions/accepted/ok.py": "# @EXPECTED_SCORE@: 100\nprint()\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert p["stop_on_failure"] is False
    names = [t["name"] for t in p["tests"]]
    assert names == ["sample/1", "secret/g1/a", "secret/g1/b", "secret/g2/0", "secret/g2/x/1"]
    # Samples count for nothing in a scoring problem (2023-07, and DOMjudge's legacy examples).
    assert [t["points"] for t in p["tests"]] == [0, 20, 20, 40, 40]
    tree = p["scoring"]
    assert tree["name"] == "data" and tree["aggregation"] == "sum"
    assert tree["on_reject"] == "continue"
    sample, secret = tree["children"]
    assert sample == {
        "name": "sample",
        "aggregation": "sum",
        "on_reject": "continue",
        "verdict": "first_error",
        "children": [{"test": 1}],
    }
    g1, g2 = secret["children"]
    assert g1 == {
        "name": "secret/g1",
        "aggregation": "min",
        "on_reject": "break",
        "verdict": "first_error",
        "children": [{"test": 2}, {"test": 3}],
    }
    # g2 inherits on_reject continue; it holds a test, so it is a subtask (min); its subgroup
    # inherits accept_score 40.
    assert g2["on_reject"] == "continue" and g2["aggregation"] == "min"
    assert g2["children"][0] == {"test": 4}
    assert g2["children"][1]["name"] == "secret/g2/x"
    assert p["submissions"][0]["expected_score"] == 100
    store.validate(p)


def test_scoring_2023_defaults_sample_zero(tmp_path: Path) -> None:
    root = write(tmp_path / "sub23", {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: S\ntype: scoring\n",
        "data/sample/1.in": "s\n", "data/sample/1.ans": "s\n",
        "data/secret/st1/testdata.yaml": "scoring:\n  score: 30\n",
        "data/secret/st1/1.in": "1\n", "data/secret/st1/1.ans": "1\n",
        "data/secret/st2/testdata.yaml": "scoring:\n  score: 70\n  aggregation: sum\n",
        "data/secret/st2/1.in": "2\n", "data/secret/st2/1.ans": "2\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert [t["points"] for t in p["tests"]] == [0, 30, 70]
    secret = p["scoring"]["children"][1]
    assert secret["aggregation"] == "sum"
    assert secret["children"][0]["aggregation"] == "min"
    assert secret["children"][0]["on_reject"] == "break"
    assert secret["children"][1]["aggregation"] == "sum"
    store.validate(p)


def test_legacy_ignore_sample_drops_sample_points(tmp_path: Path) -> None:
    root = write(tmp_path / "ig", {
        "problem.yaml": "type: scoring\n",
        "data/testdata.yaml": "grader_flags: ignore_sample\n",
        "data/sample/1.in": "s\n", "data/sample/1.ans": "s\n",
        "data/secret/1.in": "1\n", "data/secret/1.ans": "1\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert [t["points"] for t in p["tests"]] == [0, 1]
    # The sample node stays in the tree (every test belongs somewhere) but earns nothing.
    assert [c["name"] for c in p["scoring"]["children"]] == ["sample", "secret"]
    store.validate(p)


def test_domjudge_package(tmp_path: Path) -> None:
    root = write(tmp_path / "dj", {
        "problem.yaml": "limits:\n  memory: 1024\n",
        "domjudge-problem.ini": "name='Boolean Find'\nshort-name = boolfind\ntimelimit='3'\n",
        ".timelimit": "2\n",
        "data/sample/1.in": "1\n", "data/sample/1.ans": "1\n",
        "data/secret/1.in": "2\n", "data/secret/1.ans": "2\n",
        "submissions/accepted/a.c": "/* @EXPECTED_RESULTS@: CORRECT, TIMELIMIT */\nint main(){}\n",
        "submissions/misc/b.java":
            "// @EXPECTED_RESULTS@: WRONG-ANSWER,NO-OUTPUT\nclass B {}\n",
        "submissions/misc/c.py": "print()\n",
        "submissions/wrong_answer/d.sh": "# @EXPECTED_RESULTS@: MEMORY-LIMIT, OUTPUT-LIMIT\n",
        "submissions/compile_error/e.cpp": "# @EXPECTED_RESULTS@: COMPILER-ERROR RUN-ERROR\n",
        # DOMjudge refuses these (hello's check_manually examples): a tag twice in a file,
        # two kinds of verdict tag, tags in two files of one submission.
        "submissions/accepted/twice.c": "// @EXPECTED_RESULTS@: CORRECT\n// @EXPECTED_RESULTS@: WRONG-ANSWER\n",
        "submissions/accepted/both.c": "// @EXPECTED_SCORE@: CORRECT\n// @EXPECTED_RESULTS@: WRONG-ANSWER\n",
        "submissions/accepted/scored.c": "// @EXPECTED_SCORE@: 50\n// @EXPECTED_RESULTS@: CORRECT\nint main(){}\n",
        "submissions/accepted/two/a.c": "// @EXPECTED_RESULTS@: CORRECT\nint main(){}\n",
        "submissions/accepted/two/b.c": "// @EXPECTED_RESULTS@: WRONG-ANSWER\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert p["slug"] == "boolfind" and p["title"] == "Boolean Find"
    assert p["time_limit"] == 2  # .timelimit wins over the ini
    assert "time_limit_from_submissions" not in p["package"]
    subs = {s["name"]: s["expected"] for s in p["submissions"]}
    assert subs == {
        "accepted/a.c": ["AC", "TLE"],
        "misc/b.java": ["WA"],
        "wrong_answer/d.sh": ["MLE", "OLE"],
        "compile_error/e.cpp": ["CE", "RE", "MLE"],  # RE admits MLE: the format has no memory verdict
        "accepted/scored.c": ["AC"],  # a score and a verdict: one of each is fine
    }
    assert any("misc/c.py" in s for s in p["package"]["skipped"])
    for name in ("accepted/twice.c", "accepted/both.c"):
        assert f"submissions/{name}: more than one @EXPECTED_RESULTS@ or @EXPECTED_SCORE@ in a file" in p["package"]["skipped"]
    assert "submissions/accepted/two: @EXPECTED_RESULTS@ in more than one file" in p["package"]["skipped"]
    # DOMjudge's output rule: past the limit, output is dropped and the program runs on.
    assert p["limits"]["output_overflow"] == "truncate"
    # And its compile limits (script_memory_limit, script_filesize_limit): hello's 512 MiB
    # statically initialised binary compiles, as DOMjudge expects.
    assert (p["limits"]["compile_memory"], p["limits"]["compile_file_size"]) == ("2048M", "2560M")
    (root / "problem.yaml").write_text("name: Boolean Find\nlimits:\n  compilation_memory: 3000\n")
    assert icpc.load(root)["limits"]["compile_memory"] == "3000M"  # the package's own wins
    (root / ".timelimit").unlink()
    assert icpc.load(root)["time_limit"] == 3
    store.validate(p)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"problem.yaml": "name: [unclosed\n"}, "problem.yaml: not valid YAML"),
        ({"problem.yaml": "- a\n- b\n"}, "problem.yaml: a mapping"),
        ({"data/secret/1.in": "1\n"}, "data/secret/1.in: no 1.ans beside it"),
        ({"data/secret/x.txt": "1\n"}, "data/: no tests"),
        ({"problem.yaml": "limits:\n  memory: lots\n"}, "problem.yaml: limits.memory"),
        ({"problem.yaml": "limits:\n  time_limit: -1\n"}, "limits.time_limit: must be more"),
        (
            {"problem.yaml": "validation: custom\n", "output_validators/v/README": "x"},
            "output_validators/v: no source file",
        ),
        ({"problem.yaml": "validation: custom\n"}, "validation is custom but there is no"),
        ({"data/testdata.yaml": "on_reject: [\n"}, "data/testdata.yaml: not valid YAML"),
        ({"problem.yaml": "validator_flags: float_tolerance abc\n"}, "float_tolerance"),
        ({".timelimit": "soon\n"}, ".timelimit: a number"),
    ],
)
def test_bad_packages(tmp_path: Path, files: dict[str, str], message: str) -> None:
    base: dict[str, str | bytes] = {
        "problem.yaml": "name: Bad\n",
        "data/sample/1.in": "1\n",
        "data/sample/1.ans": "1\n",
    }
    if "data/secret/x.txt" in files:
        base = {k: v for k, v in base.items() if not k.startswith("data/sample")}
    root = write(tmp_path / "bad", {**base, **files})
    with pytest.raises(ProblemError, match=message.replace("[", r"\[").replace(".", r"\.")):
        formats.load_path(root)


def test_multi_pass_is_flagged(tmp_path: Path) -> None:
    root = write(tmp_path / "mp", {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: M\ntype: multi-pass\n",
        "output_validator/v.py": "import sys\nsys.exit(42)\n",
        "data/secret/1.in": "1\n", "data/secret/1.ans": "1\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert p["package"]["multi_pass"] is True and p["checker"]["type"] == "custom"
    store.validate(p)


def test_load_time_hundred_tests(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"problem.yaml": "name: Big\n"}
    line = ("1234567 " * 128)[:1023] + "\n"
    for i in range(100):
        part = "sample" if i < 2 else "secret"
        files[f"data/{part}/{i:03}.in"] = line
        files[f"data/{part}/{i:03}.ans"] = line
    root = write(tmp_path / "big", files)
    start = time.perf_counter()
    p: dict[str, Any] = formats.load_path(root)
    elapsed = time.perf_counter() - start
    assert len(p["tests"]) == 100
    store.validate(p)
    assert elapsed < 2.0, elapsed


def test_latex_to_markdown() -> None:
    tex = r"""\documentclass{kattis}
\begin{document}
\problemname{Sum \texttt{It}}
Text with 5\% off -- see \href{https://x.org}{this}~page. % a comment
\begin{enumerate}
\item first \emph{one}
\item second
\end{enumerate}
\[ \sum_{i=1}^n a_i \]
\begin{tabular}{|l|r|}
\hline
Group & Points \\ \hline
$1$ & 30 \\
\end{tabular}
\illustration{0.3}{cave.jpg}{A cave}
\unknownmacro{kept} \noindent end.
\end{document}
"""
    md, title = latex.to_markdown(tex)
    assert title == "Sum It"
    assert "Text with 5% off \u2013 see [this](https://x.org) page." in md
    assert "a comment" not in md
    assert "1. first *one*\n1. second" in md
    assert "$$\\sum_{i=1}^n a_i$$" in md
    assert "| Group | Points |\n| --- | --- |\n| $1$ | 30 |" in md
    assert "*(illustration: cave.jpg: A cave)*" in md
    assert "unknownmacrokept end." in md


def test_interactive_2023_validator_in_named_folder(tmp_path: Path) -> None:
    root = write(tmp_path / "guess23", {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: G\ntype: interactive\n",
        "output_validator/guess_validator/validate.cc": "int main(){return 42;}\n",
        "output_validator/guess_validator/validate.h": "#pragma once\n",
        "data/sample/1.interaction": "> 1\n< correct\n",
        "data/secret/1.in": "1\n", "data/secret/1.ans": "\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert p["interactor"]["source"] == "int main(){return 42;}\n"
    assert p["interactor"]["files"] == {"validate.h": b"#pragma once\n"}
    assert [t["name"] for t in p["tests"]] == ["secret/1"]  # .interaction alone is no test
    assert "> 1\n< correct" in p["statement"]
    store.validate(p)


def test_imported_into_the_database(tmp_path: Path, sqlite_url: str) -> None:
    engine = store.init_db(sqlite_url)
    try:
        with store.session_factory(engine)() as s:
            problem = store.import_problem(s, formats.load_path(legacy_passfail(tmp_path / "p")))
            s.commit()
            assert problem.slug == "p" and len(problem.tests) == 4
            assert problem.tests[0].sample and problem.tests[0].name == "sample/1"
            assert {f.name for f in problem.files} == {"statement.pdf", "testing_tool.py"}
            assert len(problem.submissions_shipped) == 3
    finally:
        engine.dispose()


# Kattis' `.pl` is Prolog, DOMjudge's is Perl; problemtools runs a `.py` whose shebang names
# python2 as Python 2. Our own sources in each style.
PROLOG_MAIN = "[reader].\n\nmain :-\n    read_int(X), write(X), nl.\n"
PROLOG_HELPER = ":- module(reader, [read_int/1]).\nread_int(X) :- read(X).\n"
PERL = '# @EXPECTED_RESULTS@: CORRECT\nmy $x = <STDIN>;\nprint "$x";\n'


def test_submission_languages_are_told_apart_by_content(tmp_path: Path) -> None:
    root = write(tmp_path / "langs", {
        "problem.yaml": "name: Langs\n",
        "data/secret/1.in": "1\n", "data/secret/1.ans": "1\n",
        "submissions/accepted/perl.pl": PERL,
        "submissions/accepted/perl_shebang.pl": "#!/usr/bin/perl\nmain :- x.\nprint 1;\n",
        "submissions/accepted/prolog/echo.pl": PROLOG_MAIN,
        "submissions/accepted/prolog/reader.pl": PROLOG_HELPER,
        "submissions/accepted/one.plg": "main :- write(1), nl.\n",
        "submissions/accepted/old.py": "#!/usr/bin/env python2\nprint 1\n",
        "submissions/accepted/new.py": "#!/usr/bin/env python3\nprint(1)\n",
        "submissions/accepted/plain.py": "print(1)\n",
        "submissions/accepted/hello.p": "begin writeln(1) end.\n",
        "submissions/accepted/hello.awk": "{ print }\n",
        "submissions/accepted/hello.f95": "program h\nprint *, 1\nend program h\n",
    })  # fmt: skip
    subs = {s["name"]: s for s in icpc.load(root)["submissions"]}
    assert {name: s["language"] for name, s in subs.items()} == {
        "accepted/hello.awk": "awk",
        "accepted/hello.f95": "fortran",
        "accepted/hello.p": "pascal",
        "accepted/new.py": "python3",
        "accepted/old.py": "python2",
        "accepted/one.plg": "prolog",
        "accepted/perl.pl": "perl",
        "accepted/perl_shebang.pl": "perl",
        "accepted/plain.py": "python3",
        "accepted/prolog": "prolog",
    }
    # The file defining main/0 is the entry point; the module rides along.
    assert subs["accepted/prolog"]["source"] == PROLOG_MAIN
    assert subs["accepted/prolog"]["files"] == {"reader.pl": PROLOG_HELPER}


def test_a_validator_in_a_foreign_language_stays_an_unknown_file(tmp_path: Path) -> None:
    root = write(tmp_path / "v", {
        "problem.yaml": "name: V\n",
        "data/secret/1.in": "1\n", "data/secret/1.ans": "1\n",
        "input_validators/check.awk": "{ exit 42 }\n",
        "input_validators/old.py": "#!/usr/bin/env python2\nimport sys\nsys.exit(42)\n",
    })  # fmt: skip
    p = icpc.load(root)
    assert [v["language"] for v in p["input_validators"]] == ["python3"]
    assert "input_validators/check.awk: unknown file type" in p["package"]["skipped"]


def test_expected_results_in_any_file_of_a_multi_file_submission(tmp_path: Path) -> None:
    # DOMjudge reads the tag from every file of the submission, not only the entry point.
    root = write(tmp_path / "tag", {
        "problem.yaml": "name: Tag\n",
        "data/secret/1.in": "1\n", "data/secret/1.ans": "1\n",
        "submissions/multiple/two/main.c": "int main(void) { return 0; }\n",
        "submissions/multiple/two/expected.txt": "@EXPECTED_RESULTS@: CORRECT, NO-OUTPUT\n",
        "submissions/multiple/own/main.c": "/* @EXPECTED_RESULTS@: TIMELIMIT */\nint main(){}\n",
        "submissions/multiple/own/notes.txt": "@EXPECTED_RESULTS@: CORRECT\n",
    })  # fmt: skip
    p = icpc.load(root)
    subs = {s["name"]: s for s in p["submissions"]}
    assert subs["multiple/two"]["expected"] == ["AC", "WA"]
    # Tags in two files: DOMjudge refuses the submission ("Found more than one file with
    # @EXPECTED_RESULTS@"), so it is skipped, with the reason.
    assert "multiple/own" not in subs
    assert "submissions/multiple/own: @EXPECTED_RESULTS@ in more than one file" in p["package"]["skipped"]


def test_symbolic_links_inside_a_package_directory_are_followed(tmp_path: Path) -> None:
    # problemtools reuses a group's tests in another by links; DOMjudge links one submission
    # into two folders and its statement PDF to a file outside the package.
    root = write(tmp_path / "linked", {
        "problem.yaml": "name: Linked\ntype: scoring\n",
        "data/secret/g1/1.in": "1\n", "data/secret/g1/1.ans": "1\n",
        "data/secret/g2/2.in": "2\n", "data/secret/g2/2.ans": "2\n",
        "submissions/accepted/a.py": "print(input())\n",
        "outside.pdf": "%PDF-1.4 not the package's\n",
    })  # fmt: skip
    (root / "data/secret/g2/1.in").symlink_to("../g1/1.in")
    (root / "data/secret/g2/1.ans").symlink_to("../g1/1.ans")
    (root / "submissions/wrong_answer").mkdir()
    (root / "submissions/wrong_answer/a.py").symlink_to("../accepted/a.py")
    (root / "submissions/accepted/loop").symlink_to("..")
    (root / "submissions/accepted/gone.py").symlink_to("nowhere.py")
    package = root / "pkg"
    package.mkdir()
    for name in ("problem.yaml", "data", "submissions"):
        (root / name).rename(package / name)
    (package / "problem.pdf").symlink_to("../outside.pdf")

    p = formats.load_path(package)
    assert p["slug"] == "pkg"  # the directory's name, not the copy's
    assert [t["input"] for t in p["tests"]] == [b"1\n", b"1\n", b"2\n"]
    assert [s["name"] for s in p["submissions"]] == ["accepted/a.py", "wrong_answer/a.py"]
    assert "files" not in p  # the PDF outside the package is not read
    skipped = p["package"]["skipped"]
    assert "problem.pdf: a symbolic link out of the package is not followed" in skipped
    assert "submissions/accepted/gone.py: a symbolic link out of the package is not followed" in (
        skipped
    )
    assert "submissions/accepted/loop: a symbolic link into itself is not followed" in skipped


def test_output_overflow_is_validated() -> None:
    spec = {"slug": "o", "tests": [{"input": "", "output": ""}]}
    assert store.validate({**spec, "limits": {"output_overflow": "truncate"}})
    with pytest.raises(store.ProblemError, match=r"limits\.output_overflow: one of kill, truncate"):
        store.validate({**spec, "limits": {"output_overflow": "sometimes"}})


def _git_zip(root: Path, prefix: str) -> bytes:
    """The package as `git archive --format=zip` writes it: links stored as links."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "p"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env)
    return subprocess.run(
        ["git", "-C", str(root), "archive", "--format=zip", f"--prefix={prefix}", "HEAD"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip


def test_symbolic_links_in_a_zip_are_followed_inside_the_package(tmp_path: Path) -> None:
    # problemtools' oddecho zipped by `git archive` keeps its links; they were refused.
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host secret\n")
    root = write(tmp_path / "oddlinks", {
        "problem.yaml": "name: Odd Links\ntype: scoring\n",
        "data/secret/g1/1.in": "1\n", "data/secret/g1/1.ans": "1\n",
        "data/secret/g2/2.in": "2\n", "data/secret/g2/2.ans": "2\n",
        "submissions/accepted/a.py": "print(input())\n",
    })  # fmt: skip
    (root / "data/secret/g2/1.in").symlink_to("../g1/1.in")
    (root / "data/secret/g2/1.ans").symlink_to("../g1/1.ans")
    (root / "submissions/wrong_answer").symlink_to("accepted")
    (root / "submissions/accepted/steal.py").symlink_to(secret)  # absolute, out of the package
    (root / "submissions/accepted/up.py").symlink_to("../../../host-secret.txt")

    p = formats.load_zip(_git_zip(root, "oddlinks/"))
    assert p["slug"] == "oddlinks"
    assert [t["input"] for t in p["tests"]] == [b"1\n", b"1\n", b"2\n"]
    assert [s["name"] for s in p["submissions"]] == ["accepted/a.py", "wrong_answer/a.py"]
    assert "host secret" not in repr(p)
    skipped = p["package"]["skipped"]
    for name in ("submissions/accepted/steal.py", "submissions/accepted/up.py"):
        assert f"{name}: a symbolic link out of the package is not followed" in skipped


def test_a_zip_cannot_write_through_its_own_link(tmp_path: Path) -> None:
    """A link member "d" -> an outside directory, then a member "d/x": links are made only after
    every file, so "d/x" lands in the package's own "d" and the link collides with it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    for order in ("link first", "file first"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            link = zipfile.ZipInfo("d")
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            members = [(link, str(outside)), (zipfile.ZipInfo("d/x"), "planted\n")]
            for info, data in members if order == "link first" else members[::-1]:
                zf.writestr(info, data)
            zf.writestr("problem.json", '{"slug": "z", "tests": []}')
        with pytest.raises(store.ProblemError, match="d: appears twice in the archive"):
            formats.load_zip(buf.getvalue())
        assert list(outside.iterdir()) == [], order


@pytest.mark.parametrize("target", [b"", b"a\0b", b"\xff\xfe", b"x" * 5000])
def test_a_malformed_link_member_is_one_line(target: bytes) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        link = zipfile.ZipInfo("l")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, target)
    with pytest.raises(store.ProblemError, match=r"^l: not a valid symbolic link$"):
        formats.load_zip(buf.getvalue())


def test_grader_verdict_flags_map_to_the_tree_and_are_named_on_pass_fail(tmp_path: Path) -> None:
    files = {
        "data/secret/g/testdata.yaml": "grader_flags: accept_if_any_accepted max\n",
        "data/secret/g/1.in": "1\n", "data/secret/g/1.ans": "1\n",
        "data/secret/h/testdata.yaml": "grader_flags: always_accept\n",
        "data/secret/h/2.in": "2\n", "data/secret/h/2.ans": "2\n",
    }  # fmt: skip
    scoring = icpc.load(write(tmp_path / "s", {"problem.yaml": "type: scoring\n", **files}))
    g, h = scoring["scoring"]["children"][0]["children"]
    assert (g["aggregation"], g["verdict"], h["verdict"]) == ("max", "any_accepted", "always_accepted")
    store.validate(scoring)
    passfail = icpc.load(write(tmp_path / "p", {"problem.yaml": "name: P\n", **files}))
    assert "scoring" not in passfail or passfail["scoring"] is None
    assert any("apply only to scoring problems" in n for n in passfail["package"]["skipped"])
