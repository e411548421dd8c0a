"""The Polygon full-package importer on small packages written here in Polygon's layout."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

import store
from store.formats import load_path, load_zip, polygon
from store.formats.polygon_programs import language_of_type
from store.formats.polygon_statement import tex_to_markdown

TESTLIB = "// a stand-in for testlib.h\n#pragma once\n"
CHECK = '#include "testlib.h"\nint main(int argc, char* argv[]) { return 0; }\n'
SOLUTION = '#include <cstdio>\nint main() { int a, b; scanf("%d %d", &a, &b); }\n'


def problem_xml(
    tests: str,
    *,
    groups: str = "",
    assets: str = "",
    short_name: str = "aplusb",
    names: str = '<name language="english" value="A plus B"/>',
) -> str:
    return f"""<?xml version="1.0" encoding="utf-8" standalone="no"?>
<problem revision="7" short-name="{short_name}" url="https://polygon.codeforces.com/p/x">
  <names>{names}</names>
  <judging cpu-name="Intel" cpu-speed="3600" input-file="" output-file="">
    <testset name="pretests"><tests/></testset>
    <testset name="tests">
      <time-limit>2000</time-limit>
      <memory-limit>268435456</memory-limit>
      <test-count>3</test-count>
      <input-path-pattern>tests/%02d</input-path-pattern>
      <answer-path-pattern>tests/%02d.a</answer-path-pattern>
      <tests>{tests}</tests>
      {groups}
    </testset>
  </judging>
  <files>
    <resources>
      <file path="files/olymp.sty"/>
      <file path="files/testlib.h" type="h.g++"/>
    </resources>
    <executables>
      <executable><source path="files/gen.cpp" type="cpp.g++17"/></executable>
    </executables>
  </files>
  <assets>{assets}</assets>
</problem>
"""


CHECKER = """<checker name="std::wcmp.cpp" type="testlib">
  <source path="files/check.cpp" type="cpp.g++17"/>
  <binary path="check.exe" type="exe.win32"/>
  <copy path="check.cpp"/>
</checker>"""

PLAIN_TESTS = """
  <test method="manual" sample="true"/>
  <test cmd="gen 1" method="generated"/>
  <test cmd="gen 2" method="generated"/>"""


def write_package(root: Path, xml: str, n_tests: int = 3) -> Path:
    (root / "tests").mkdir(parents=True)
    for i in range(1, n_tests + 1):
        (root / "tests" / f"{i:02d}").write_text(f"{i} {i}\n")
        (root / "tests" / f"{i:02d}.a").write_text(f"{2 * i}\n")
    (root / "files").mkdir()
    (root / "files" / "testlib.h").write_text(TESTLIB)
    (root / "files" / "check.cpp").write_text(CHECK)
    (root / "files" / "gen.cpp").write_text("int main() {}\n")
    (root / "files" / "olymp.sty").write_text("% statement style\n")
    (root / "files" / "points.txt").write_text("data for the checker\n")
    (root / "solutions").mkdir()
    (root / "solutions" / "sol.cpp").write_text(SOLUTION)
    (root / "solutions" / "slow.py").write_text("print(0)\n")
    (root / "solutions" / "wa.java").write_text("class Main {}\n")
    (root / "solutions" / "old.py").write_text("print 0\n")
    (root / "problem.xml").write_text(xml)
    return root


SOLUTIONS = """<solutions>
  <solution tag="main"><source path="solutions/sol.cpp" type="cpp.gcc11-64-winlibs-g++20"/></solution>
  <solution tag="time-limit-exceeded-or-accepted">
    <source path="solutions/slow.py" type="python.3"/></solution>
  <solution tag="wrong-answer"><source path="solutions/wa.java" type="java11"/></solution>
  <solution tag="rejected"><source path="solutions/old.py" type="python.2"/></solution>
  <solution tag="failed"><source path="solutions/sol.cpp" type="cpp.g++17"/></solution>
</solutions>"""


def test_detect_needs_problem_xml_with_a_problem_root(tmp_path: Path) -> None:
    assert not polygon.detect(tmp_path)
    (tmp_path / "problem.xml").write_text("<contest/>")
    assert not polygon.detect(tmp_path)
    (tmp_path / "problem.xml").write_text('<?xml version="1.0"?>\n<problem short-name="x"/>')
    assert polygon.detect(tmp_path)


def test_plain_package(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, assets=CHECKER + SOLUTIONS))
    data = polygon.load(root)
    spec = store.validate(data)
    assert spec.slug == "aplusb" and spec.title == "A plus B"
    assert spec.time_limit == 2.0 and spec.memory_limit == 256 << 20
    assert spec.stop_on_failure and spec.scoring is None
    assert [t.name for t in spec.tests] == ["tests/01", "tests/02", "tests/03"]
    assert [t.sample for t in spec.tests] == [True, False, False]
    assert spec.tests[1].input == b"2 2\n" and spec.tests[1].output == b"4\n"
    assert all(t.points == 1 for t in spec.tests)
    checker = data["checker"]
    assert checker["type"] == "custom" and checker["protocol"] == "testlib"
    assert checker["language"] == "cpp" and checker["source"] == CHECK
    # Headers and data beside it; not other programs' sources nor statement templates.
    assert set(checker["files"]) == {"testlib.h", "points.txt"}
    assert spec.checker["files"]["testlib.h"] == TESTLIB
    assert data["interactor"] is None
    assert data["package"]["format"] == "polygon" and data["package"]["revision"] == 7
    subs = {s.name: (s.language, s.expected) for s in spec.submissions}
    assert subs == {
        "solutions/sol.cpp": ("cpp", ("AC",)),
        "solutions/slow.py": ("python3", ("TLE", "AC")),
        "solutions/wa.java": ("java", ("WA",)),
    }
    skipped = data["package"]["skipped"]
    assert any("old.py" in s for s in skipped) and any("'failed'" in s for s in skipped)
    # The sample is in the statement.
    assert "```\n1 1\n```" in spec.statement and "```\n2\n```" in spec.statement


def test_groups_points_and_dependencies(tmp_path: Path) -> None:
    tests = """
      <test method="manual" sample="true" group="samples" points="0"/>
      <test method="generated" cmd="gen 1" group="g1" points="10"/>
      <test method="generated" cmd="gen 2" group="g2" points="15.0"/>
      <test method="generated" cmd="gen 3" group="g2" points="5"/>
      <test method="generated" cmd="gen 4" points="3"/>"""
    groups = """<groups>
      <group feedback-policy="complete" name="samples" points="0" points-policy="complete-group"/>
      <group feedback-policy="icpc" name="g1" points-policy="each-test">
        <dependencies><dependency group="samples"/></dependencies>
      </group>
      <group feedback-policy="points" name="g2" points="40" points-policy="complete-group">
        <dependencies><dependency group="samples"/><dependency group="g1"/></dependencies>
      </group>
      <group name="empty" points-policy="each-test"/>
    </groups>"""
    root = write_package(tmp_path, problem_xml(tests, groups=groups, assets=CHECKER), 5)
    data = polygon.load(root)
    spec = store.validate(data)
    assert spec.stop_on_failure is False
    assert [t.group for t in spec.tests] == ["samples", "g1", "g2", "g2", None]
    assert [t.points for t in spec.tests] == [0, 10, 15, 5, 3]
    tree = data["scoring"]
    assert tree["aggregation"] == "sum"
    samples, g1, g2, lone = tree["children"]
    assert samples == {
        "name": "samples", "aggregation": "all", "on_reject": "break", "points": 0,
        "children": [{"test": 1}],
    }  # fmt: skip
    assert g1["aggregation"] == "sum" and g1["children"] == [{"test": 2}]
    assert g1["requires"] == ["samples"]
    assert g2["aggregation"] == "all" and g2["points"] == 40
    assert g2["children"] == [{"test": 3}, {"test": 4}]
    assert g2["requires"] == ["samples", "g1"]
    assert lone == {"test": 5}


def test_complete_group_without_points_sums_its_tests(tmp_path: Path) -> None:
    tests = """
      <test method="manual" group="a" points="2"/>
      <test method="manual" group="a" points="3"/>
      <test method="manual" group="b"/>"""
    groups = '<groups><group name="a" points-policy="complete-group"/></groups>'
    data = polygon.load(write_package(tmp_path, problem_xml(tests, groups=groups)))
    store.validate(data)
    a, b = data["scoring"]["children"]
    assert a["points"] == 5 and a["aggregation"] == "all"
    assert b["aggregation"] == "sum" and data["tests"][2]["points"] == 0


def test_groups_without_points_are_pass_or_fail(tmp_path: Path) -> None:
    tests = """
      <test method="manual" group="samples" sample="true"/>
      <test method="manual" group="main"/>
      <test method="manual" group="main"/>"""
    groups = """<groups><group name="samples" feedback-policy="complete"/>
      <group name="main" feedback-policy="icpc"/></groups>"""
    data = polygon.load(write_package(tmp_path, problem_xml(tests, groups=groups)))
    spec = store.validate(data)
    assert spec.scoring is None and spec.stop_on_failure
    assert [t.group for t in spec.tests] == ["samples", "main", "main"]


def test_unknown_dependency_is_refused(tmp_path: Path) -> None:
    groups = """<groups><group name="a" points-policy="each-test">
      <dependencies><dependency group="nope"/></dependencies></group></groups>"""
    tests = '<test method="manual" group="a" points="1"/>'
    root = write_package(tmp_path, problem_xml(tests, groups=groups), 1)
    with pytest.raises(store.ProblemError, match="group 'a' depends on unknown 'nope'"):
        polygon.load(root)


def test_interactive_package(tmp_path: Path) -> None:
    assets = (
        CHECKER
        + """<interactor><source path="files/interactor.cpp" type="cpp.g++17"/>
        <binary path="files/interactor.exe" type="exe.win32"/></interactor>
        <validators><validator><source path="files/val.cpp" type="cpp.g++17"/>
        <testset name="tests"><test-count>0</test-count></testset></validator></validators>"""
    )
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, assets=assets))
    (root / "files" / "interactor.cpp").write_text('#include "testlib.h"\nint main() {}\n')
    (root / "files" / "val.cpp").write_text('#include "testlib.h"\nint main() {}\n')
    (root / "tests" / "03.a").unlink()  # an interactor may need no answer
    data = polygon.load(root)
    spec = store.validate(data)
    assert spec.interactor is not None
    assert data["interactor"]["protocol"] == "testlib" and spec.interactor["language"] == "cpp"
    assert set(spec.interactor["files"]) == {"testlib.h", "points.txt"}
    assert spec.checker["type"] == "custom"  # testlib checks the interactor's output
    (validator,) = spec.input_validators
    assert data["input_validators"][0]["protocol"] == "testlib"
    assert "int main" in validator["source"]
    assert spec.tests[2].output == b""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("std::wcmp.cpp", {"type": "tokens"}),
        ("std::lcmp.cpp", {"type": "lines"}),
        ("std::ncmp.cpp", {"type": "tokens"}),
        ("std::yesno.cpp", {"type": "tokens", "case_sensitive": False}),
        ("std::rcmp4.cpp", {"type": "float", "abs": 1e-4, "rel": 1e-4}),
        ("std::rcmp6.cpp", {"type": "float", "abs": 1e-6, "rel": 1e-6}),
        ("std::rcmp9.cpp", {"type": "float", "abs": 1e-9, "rel": 1e-9}),
    ],
)
def test_std_checker_without_its_source_is_a_builtin(
    tmp_path: Path, name: str, expected: dict[str, Any]
) -> None:
    assets = f'<checker name="{name}" type="testlib"><source path="files/check.cpp"/></checker>'
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, assets=assets))
    (root / "files" / "check.cpp").unlink()
    data = polygon.load(root)
    assert data["checker"] == expected
    assert store.validate(data).checker == expected


def test_unknown_checker_type_and_missing_checker(tmp_path: Path) -> None:
    assets = '<checker type="exe"><source path="files/check.cpp"/></checker>'
    root = write_package(tmp_path / "a", problem_xml(PLAIN_TESTS, assets=assets))
    with pytest.raises(store.ProblemError, match=r"problem\.xml: checker type 'exe'"):
        polygon.load(root)
    assets = '<checker name="mine" type="testlib"><source path="files/mine.cpp"/></checker>'
    root = write_package(tmp_path / "b", problem_xml(PLAIN_TESTS, assets=assets))
    with pytest.raises(store.ProblemError, match=r"checker source files/mine\.cpp: no such file"):
        polygon.load(root)


def test_statement_sections_become_markdown(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, names="", assets=CHECKER))
    sections = root / "statement-sections" / "english"
    sections.mkdir(parents=True)
    (sections / "name.tex").write_text("Sum of Two\n")
    (sections / "legend.tex").write_text(
        "Given \\textbf{two} integers $a$ and $b$ (\\emph{really}), print \\t{a+b}.\n"
        "% a comment\n\\begin{itemize}\n\\item first $x_{i} \\le 10^9$;\n"
        "\\item second --- done.\n\\end{itemize}\n"
    )
    (sections / "input.tex").write_text("One line: $$a + b \\le 2 \\cdot 10^{9}$$\n")
    (sections / "output.tex").write_text("The sum.\n")
    (sections / "notes.tex").write_text("Easy~enough.\n")
    pdf = root / "statements" / ".pdf" / "english"
    pdf.mkdir(parents=True)
    (pdf / "problem.pdf").write_bytes(b"%PDF-1.4 not really\xff")
    data = polygon.load(root)
    spec = store.validate(data)
    assert spec.title == "Sum of Two"
    text = spec.statement
    assert "Given **two** integers $a$ and $b$ (*really*), print `a+b`." in text
    assert "- first $x_{i} \\le 10^9$;" in text and "- second \u2014 done." in text
    assert "comment" not in text
    assert "## Input\n\nOne line: $$a + b \\le 2 \\cdot 10^{9}$$" in text
    assert "## Output\n\nThe sum." in text and "## Notes" in text
    assert text.index("## Notes") < text.index("## Examples")
    assert spec.files == {"statement.pdf": b"%PDF-1.4 not really\xff"}


def test_html_statement_is_the_fallback(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, assets=CHECKER))
    html = root / "statements" / ".html" / "english"
    html.mkdir(parents=True)
    (html / "problem.html").write_text(
        "<html><head><style>p{}</style></head><body><p>Add &lt;a&gt; and $$$b_i$$$.</p>"
        "<p>$$$$$$a + b$$$$$$</p></body></html>"
    )
    statement = polygon.load(root)["statement"]
    assert statement.startswith("Add <a> and $b_i$.\n$$a + b$$\n")


def test_olymp_problem_tex_is_the_next_fallback(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, assets=CHECKER))
    folder = root / "statements" / "english"
    folder.mkdir(parents=True)
    (folder / "problem.tex").write_text(
        "\\begin{problem}{A plus B}{standard input}{standard output}{2 seconds}{256 megabytes}\n"
        "Add $a$ and \\textit{b}.\n\n\\InputFile\nTwo numbers.\n\n\\OutputFile\nTheir sum.\n"
        "\\Examples\n\\begin{example}\n\\exmpfile{example.01}{example.01.a}%\n\\end{example}\n"
        "\\Note\nNone.\n\\end{problem}\n"
    )
    statement = polygon.load(root)["statement"]
    assert statement.startswith(
        "Add $a$ and *b*.\n\n## Input\n\nTwo numbers.\n\n## Output\n\nTheir sum.\n\n"
        "## Notes\n\nNone.\n\n## Examples\n\n### Input 1\n"
    )


def test_tex_math_is_left_alone() -> None:
    assert tex_to_markdown("$\\textbf{x}$ and \\textbf{y} cost 5\\%") == (
        "$\\textbf{x}$ and **y** cost 5%"
    )


def test_tex_tables_and_line_breaks() -> None:
    tex = (
        "\\begin{center}\\begin{tabular}{|c|p{3cm}|}\\hline\n"
        "\\bf{Subtask} & \\textbf{Points} \\\\ \\hline\n"
        "$1$ & 32 \\\\\n2 & 68 \\\\ \\hline\n"
        "\\end{tabular}\\end{center}\nOne.\\\\\nTwo --- three."
    )
    assert tex_to_markdown(tex) == (
        "| **Subtask** | **Points** |\n| --- | --- |\n| $1$ | 32 |\n| 2 | 68 |\n\n"
        "One.  \nTwo \u2014 three."
    )


def test_language_types() -> None:
    assert language_of_type("cpp.gcc11-64-winlibs-g++20", "a.cpp") == "cpp"
    assert language_of_type("c.gcc", "a.c") == "c"
    assert language_of_type("java21", "A.java") == "java"
    assert language_of_type("pypy.3-64", "a.py") == "pypy3"
    assert language_of_type("python.2", "a.py") is None
    assert language_of_type("kotlin17", "a.kt") == "kotlin"
    assert language_of_type("pas.fpc", "a.pas") == "pascal"
    assert language_of_type("cs.mono", "a.cs") == "csharp"
    assert language_of_type("python.pypy3", "a.py") == "pypy3"
    assert language_of_type("python3", "a.py") == "python3"
    assert language_of_type(None, "a.go") == "go"


def test_slug_is_normalised(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, short_name="A Plus.B!"))
    assert polygon.load(root)["slug"] == "a-plus-b"


def test_broken_xml_names_the_file(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS).replace("</judging>", ""))
    assert polygon.detect(root)
    with pytest.raises(store.ProblemError, match=r"problem\.xml: not well-formed XML"):
        load_path(root)


def test_entity_bombs_are_refused(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE problem [<!ENTITY a "aaaa">'
        '<!ENTITY b "&a;&a;&a;&a;">]><problem short-name="&b;"/>'
    )
    (tmp_path / "problem.xml").write_text(xml)
    with pytest.raises(store.ProblemError, match=r"problem\.xml: refused"):
        polygon.load(tmp_path)


def test_missing_test_file_names_test_and_path(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS))
    (root / "tests" / "02").unlink()
    with pytest.raises(store.ProblemError, match=r"test 2 \(generated\): tests/02 is missing"):
        polygon.load(root)


def test_missing_tests_testset(tmp_path: Path) -> None:
    xml = problem_xml(PLAIN_TESTS).replace('<testset name="tests">', '<testset name="other">')
    root = write_package(tmp_path, xml)
    with pytest.raises(store.ProblemError, match='no <testset name="tests">'):
        polygon.load(root)


def test_imported_package_is_stored(tmp_path: Path, sqlite_url: str) -> None:
    tests = """
      <test method="manual" sample="true" group="g1" points="40"/>
      <test method="generated" cmd="gen 1" group="g1" points="0"/>
      <test method="generated" cmd="gen 2" points="60"/>"""
    groups = '<groups><group name="g1" points="40" points-policy="complete-group"/></groups>'
    xml = problem_xml(tests, groups=groups, assets=CHECKER + SOLUTIONS)
    data = load_path(write_package(tmp_path / "pkg", xml))
    engine = store.init_db(sqlite_url)
    try:
        with store.session_factory(engine)() as s:
            problem = store.import_problem(s, data)
            s.commit()
            assert problem.scoring is not None and problem.stop_on_failure is False
            assert [t.name for t in problem.tests] == ["tests/01", "tests/02", "tests/03"]
            assert len(problem.submissions_shipped) == 3
            assert problem.package is not None and problem.package["format"] == "polygon"
    finally:
        engine.dispose()


def test_load_zip_detects_polygon(tmp_path: Path) -> None:
    root = write_package(tmp_path / "aplusb-7", problem_xml(PLAIN_TESTS, assets=CHECKER))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                # Packages are often zipped with their folder: load_zip looks inside it.
                zf.write(path, f"aplusb-7/{path.relative_to(root).as_posix()}")
    data = load_zip(buf.getvalue())
    spec = store.validate(data)
    assert spec.package == {"format": "polygon", "revision": 7}
    assert len(spec.tests) == 3 and spec.checker["type"] == "custom"


VALIDATOR = """<validators><validator><source path="files/val.cpp" type="cpp.g++17"/>
  <testset name="tests"><test-count>0</test-count></testset></validator></validators>"""


def test_validators_get_polygons_testset_and_group_arguments(tmp_path: Path) -> None:
    # Polygon runs `val --testset tests --group G`: validator.group() holds a group's bounds.
    tests = """<test method="manual" sample="true"/>
      <test method="manual" group="small" points="1"/><test method="manual" group="big" points="1"/>"""
    groups = '<groups><group name="small" points-policy="each-test"/><group name="big" points-policy="each-test"/></groups>'
    root = write_package(tmp_path, problem_xml(tests, groups=groups, assets=CHECKER + VALIDATOR))
    (root / "files" / "val.cpp").write_text('#include "testlib.h"\nint main() {}\n')
    (validator,) = polygon.load(root)["input_validators"]
    assert validator["flags"] == ["--testset", "tests"]
    assert validator["test_flags"] == {"2": ["--testset", "tests", "--group", "small"],
                                       "3": ["--testset", "tests", "--group", "big"]}  # fmt: skip


def test_a_windows_packages_crlf_tests_are_read_with_lf(tmp_path: Path) -> None:
    root = write_package(tmp_path, problem_xml(PLAIN_TESTS, assets=CHECKER))
    (root / "tests" / "01").write_bytes(b"1 2\r\n3 4\r\n")
    (root / "tests" / "01.a").write_bytes(b"3\r\n")
    (root / "tests" / "02").write_bytes(b"mixed\r\nends\n")  # not a Windows file: kept
    tests = polygon.load(root)["tests"]
    assert [t["input"] for t in tests[:2]] == [b"1 2\n3 4\n", b"mixed\r\nends\n"]
    assert tests[0]["output"] == b"3\n"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('input-file=""', 'input-file="input.txt"'), "input-file='input.txt': problems that read"),
        (('output-file=""', 'output-file="output.txt"'), "output-file='output.txt'"),
        (('<file path="files/olymp.sty"/>',
          '<file path="files/grader.cpp" for-types="cpp.*" type="cpp.g++17">'
          '<assets><asset name="solution"/></assets></file>'),
         "resource files/grader.cpp: graders compiled with the solution are not supported"),
    ],
    ids=["input-file", "output-file", "grader"],
)  # fmt: skip
def test_what_the_judge_cannot_grade_as_polygon_does_is_refused(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    xml = problem_xml(PLAIN_TESTS, assets=CHECKER).replace(*change)
    root = write_package(tmp_path, xml)
    with pytest.raises(store.ProblemError, match=message.replace("(", r"\(")):
        polygon.load(root)
