"""Every language for real: compile once and run A+B in the sandbox; the JVM languages find their
entry class (DOMjudge/Kattis style); C, C++ and Java compile every source of a multi-file
program; versions; ``judge languages`` and ``.ci/languages``.

A toolchain missing here skips its tests (``.ci/run`` installs them all: ``.ci/languages all``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import sandbox
from web import cli
from worker import languages
from worker.execution import CompileFailure, Program, RunLimits, compile_source, run_program

ROOT = Path(__file__).resolve().parents[2]
LIMITS = RunLimits(cpu_time=5.0, memory=256 << 20, output=1 << 20)
# 64-bit sums: a 32-bit int in any of these would print the wrong answer.
AB_INPUT, AB_OUTPUT = b"1000000000000 7\n", b"1000000000007"

AB: dict[str, str] = {
    "c": '#include <stdio.h>\nint main(){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}',
    "cpp": '#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}',
    "pypy3": "a, b = map(int, input().split())\nprint(a + b)\n",
    "python3": "a, b = map(int, input().split())\nprint(a + b)\n",
    "java": (
        "import java.util.*;\npublic class Main { public static void main(String[] x) {"
        " Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }"
    ),
    "javascript": (
        'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(BigInt);\n'
        "console.log(String(a + b));\n"
    ),
    "rust": (
        "use std::io::*;\nfn main() { let mut s = String::new();"
        " stdin().read_to_string(&mut s).unwrap();"
        " let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();"
        ' println!("{}", v[0] + v[1]); }'
    ),
    "ruby": "a, b = gets.split.map(&:to_i)\nputs a + b\n",
    "perl": 'my ($a, $b) = split " ", <STDIN>;\nprint $a + $b, "\\n";\n',
    "bash": "read a b\necho $((a + b))\n",
    "kotlin": (
        'fun main() {\n    val (a, b) = readLine()!!.trim().split(" ").map { it.toLong() }\n'
        "    println(a + b)\n}\n"
    ),
    "go": (
        'package main\n\nimport "fmt"\n\nfunc main() {\n\tvar a, b int64\n'
        "\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n"
    ),
    "haskell": (
        "main :: IO ()\nmain = do\n  [a, b] <- map read . words <$> getLine :: IO [Integer]\n"
        "  print (a + b)\n"
    ),
    "csharp": (
        "using System;\nclass Program { static void Main() {"
        " var p = Console.ReadLine().Split(' ');"
        " Console.WriteLine(long.Parse(p[0]) + long.Parse(p[1])); } }\n"
    ),
    "pascal": "program ab;\nvar a, b: int64;\nbegin\n  readln(a, b);\n  writeln(a + b);\nend.\n",
    "php": (
        "<?php\n[$a, $b] = array_map('intval', explode(' ', trim(fgets(STDIN))));\n"
        'echo $a + $b, "\\n";\n'
    ),
    "ocaml": 'let () = Scanf.scanf " %d %d" (fun a b -> Printf.printf "%d\\n" (a + b))\n',
    "scala": (
        "object Main {\n  def main(args: Array[String]): Unit = {\n"
        '    val Array(a, b) = scala.io.StdIn.readLine().trim.split(" ").map(_.toLong)\n'
        "    println(a + b)\n  }\n}\n"
    ),
    "lisp": '(let ((a (read)) (b (read))) (format t "~a~%" (+ a b)))\n',
    "lua": "local a, b = io.read('n', 'n')\nprint(math.tointeger(a + b))\n",
    "prolog": (
        'main :- read_line_to_string(user_input, L), split_string(L, " ", " ", [A, B]),\n'
        "    number_string(X, A), number_string(Y, B), Z is X + Y, write(Z), nl.\n"
    ),
    "r": (
        'x <- scan(file("stdin"), what = numeric(), quiet = TRUE)\n'
        'cat(format(sum(x), scientific = FALSE), "\\n", sep = "")\n'
    ),
}


def installed(language_id: str) -> languages.Language:
    lang = languages.known(language_id)
    assert lang is not None, language_id
    if not lang.available():
        pytest.skip(f"{language_id} toolchain not installed (bash .ci/languages {language_id})")
    return lang


def compiled(
    lang: languages.Language, source: str, files: dict[str, bytes] | None = None
) -> Program:
    program, output = compile_source(sandbox.run, lang, source, files)
    assert isinstance(program, Program), output
    return program


def compile_error(
    lang: languages.Language, source: str, files: dict[str, bytes] | None = None
) -> str:
    program, _ = compile_source(sandbox.run, lang, source, files)
    assert isinstance(program, CompileFailure), "compiled, but should not have"
    return program.output


def run(program: Program, stdin: bytes = AB_INPUT) -> bytes:
    r = run_program(sandbox.run, program, LIMITS, stdin=stdin)
    assert r.verdict is sandbox.Verdict.OK and r.exit_code == 0, (r.verdict, r.stderr[-2000:])
    return r.stdout.strip()


def test_every_language_has_a_program_here_and_a_well_formed_row() -> None:
    assert set(AB) == set(languages.ids())
    for lang in languages.LANGUAGES:
        assert lang.packages, lang.id
        assert lang.version_command and lang.version_command[0].startswith("/"), lang.id
        assert all(p.startswith("/") for p in lang.requires), lang.id


@pytest.mark.parametrize("language_id", sorted(AB))
def test_a_plus_b_compiles_once_and_runs_in_the_sandbox(language_id: str) -> None:
    lang = installed(language_id)
    assert run(compiled(lang, AB[language_id])) == AB_OUTPUT


JAVA_SOLUTION = """import java.io.*;
import java.util.*;

// A helper class before the public one, with its own main that must not be picked.
class Debug { public static void main(String[] a) { System.out.println("wrong class"); } }

public final class Solution {
    public static void main(String[] args) throws IOException {
        StringTokenizer t = new StringTokenizer(new BufferedReader(
            new InputStreamReader(System.in)).readLine());
        System.out.println(Long.parseLong(t.nextToken()) + Long.parseLong(t.nextToken()));
    }
}
"""


def test_java_runs_the_public_class_with_main_whatever_its_name() -> None:
    program = compiled(installed("java"), JAVA_SOLUTION)
    assert run(program) == AB_OUTPUT


def test_java_package_line_runs_the_qualified_class() -> None:
    source = "package contest.ab;\n\n" + JAVA_SOLUTION.replace("Solution", "Sum")
    assert run(compiled(installed("java"), source)) == AB_OUTPUT


def test_java_finds_the_one_non_public_class_with_main() -> None:
    source = "class Runner { public static void main(String[] a) { System.out.println(42); } }\n"
    assert run(compiled(installed("java"), source)) == b"42"


def test_java_compiles_every_java_file_of_the_program() -> None:
    helper = b"package lib;\npublic class Adder { public static long add(long a, long b) { return a + b; } }\n"
    source = (
        "import java.util.*;\nimport lib.Adder;\npublic class Main { public static void main("
        "String[] x) { Scanner s = new Scanner(System.in);"
        " System.out.println(Adder.add(s.nextLong(), s.nextLong())); } }\n"
    )
    program = compiled(installed("java"), source, {"Adder.java": helper})
    assert run(program) == AB_OUTPUT


def test_java_without_a_main_or_with_two_candidates_is_a_compile_error() -> None:
    java = installed("java")
    assert "no class has public static void main" in compile_error(java, "class A {}\n")
    two = (
        "class A { public static void main(String[] a) {} }\n"
        "class B { public static void main(String[] a) {} }\n"
    )
    assert "several classes have main: A B" in compile_error(java, two)
    assert "error" in compile_error(java, "public class Main { int x = ; }\n")


def test_kotlin_main_in_a_package_runs() -> None:
    kotlin = installed("kotlin")
    source = "package contest.ab\n\n" + AB["kotlin"]
    assert run(compiled(kotlin, source)) == AB_OUTPUT
    args = "fun main(args: Array<String>) {\n    println(readLine()!!.split(' ').size)\n}\n"
    assert run(compiled(kotlin, args)) == b"2"


def test_multi_file_cpp_compiles_every_source() -> None:
    cpp = installed("cpp")
    files = {
        "util.h": b"#pragma once\nlong add(long a, long b);\n",
        "util.cpp": b'#include "util.h"\nlong add(long a, long b) { return a + b; }\n',
        "extra.cc": b"long twice(long a) { return 2 * a; }\n",
    }
    source = (
        '#include <iostream>\n#include "util.h"\nlong twice(long);\n'
        "int main() { long a, b; std::cin >> a >> b; std::cout << add(a, b) << ' '"
        " << twice(b) << std::endl; }\n"
    )
    assert run(compiled(cpp, source, files)) == AB_OUTPUT + b" 14"


def test_multi_file_c_compiles_every_source() -> None:
    c = installed("c")
    files = {"sum.c": b"long sum(long a, long b) { return a + b; }\n"}
    source = (
        "#include <stdio.h>\nlong sum(long, long);\n"
        'int main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", sum(a, b)); }\n'
    )
    assert run(compiled(c, source, files)) == AB_OUTPUT


def test_prolog_consults_a_helper_module_beside_the_main_file() -> None:
    # Kattis ships a token reader as a module the submission consults, as here.
    prolog = installed("prolog")
    helper = (
        ":- module(reader, [numbers/1]).\n"
        "numbers(Ns) :- read_string(user_input, _, S), split_string(S, \" \\n\", \" \\n\", P),\n"
        "    exclude(==(\"\"), P, T), maplist(number_string, Ns, T).\n"
    )
    source = "[reader].\nmain :- numbers([A, B]), C is A + B, write(C), nl.\n"
    assert run(compiled(prolog, source, {"reader.pl": helper.encode()})) == AB_OUTPUT


@pytest.mark.parametrize(
    ("language_id", "source"),
    [("prolog", "main :- write(1.\n"), ("r", "cat(1 +\n")],
)
def test_prolog_and_r_syntax_errors_are_compile_errors(language_id: str, source: str) -> None:
    assert "rror" in compile_error(installed(language_id), source)


@pytest.mark.parametrize(
    ("language_id", "source", "broken"),
    [
        ("javascript", 'console.log("1000000000007");\n', {"unused.js": b"letter x = 1\n"}),
        ("python3", "print(1000000000007)\n", {"unused.py": b"def f(:\n"}),
        ("pypy3", "print(1000000000007)\n", {"unused.py": b"def f(:\n"}),
    ],
)
def test_every_source_of_a_script_is_syntax_checked(
    language_id: str, source: str, broken: dict[str, bytes]
) -> None:
    # As Kattis and DOMjudge compile them: a file the program never loads is checked too.
    lang = installed(language_id)
    assert run(compiled(lang, source, {"helper.txt": b"not a source"})) == AB_OUTPUT
    assert "unused" in compile_error(lang, source, broken)


def test_describe_gives_each_installed_language_its_version_once() -> None:
    described = {d["id"]: d for d in languages.describe()}
    assert described["python3"]["version"].startswith("Python 3.")
    assert described["c"]["version"].startswith("gcc")
    assert {d["id"] for d in described.values()} == {lang.id for lang in languages.available()}
    # Cached: a second call asks no toolchain (the answer is the very same string object).
    assert languages.describe()[0]["version"] is described[languages.available()[0].id]["version"]


def test_a_toolchain_that_cannot_say_has_an_empty_version() -> None:
    assert languages._ask_version(("/nonexistent/cc", "--version")) == ""
    assert languages._ask_version(("/bin/false",)) == ""


def test_judge_languages_list_shows_every_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["languages", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "VERSION", "INSTALLED"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(languages.ids())
    assert "Python 3." in rows["python3"] and rows["python3"].endswith("yes")
    for lang in languages.LANGUAGES:
        assert rows[lang.id].endswith("yes" if lang.available() else "no"), lang.id


def test_judge_languages_install_refuses_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["languages", "install", "bash", "cobol"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown language 'cobol'" in err[0]


def test_ci_languages_is_quiet_when_installed_and_exits_2_on_unknown() -> None:
    script = str(ROOT / ".ci" / "languages")
    done = subprocess.run(["bash", script, "bash"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    bad = subprocess.run(["bash", script, "cobol"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


DEEP_C = r"""
#include <stdio.h>
/* 2 000 000 frames of about 100 bytes: some 200 MiB of stack, past the sandbox's 64 MiB
   default. Kattis and DOMjudge lift the stack rlimit; a DFS this deep is AC there. */
static long down(long n) { volatile char pad[64]; pad[0] = (char)n; return n ? down(n - 1) + pad[0] % 2 : 0; }
int main(void) { printf("%ld\n", down(2000000)); return 0; }
"""


def test_the_stack_may_grow_to_the_memory_limit() -> None:
    program = compiled(installed("c"), DEEP_C)
    limits = RunLimits(cpu_time=5.0, memory=512 << 20, output=1 << 20)
    r = run_program(sandbox.run, program, limits, stdin=b"")
    assert r.verdict is sandbox.Verdict.OK and r.exit_code == 0, (r.verdict, r.message)
    assert r.memory_peak > 64 << 20
