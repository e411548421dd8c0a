"""Issue 19: Python's syntax check through a long-lived sandboxed parser per worker process.

Everything is real: the parser runs in a real box, the reference is the per-submission box
check (JUDGE_PYTHON_PARSER=0) run in the same test. Faults are caused for real (SIGKILL and
SIGSTOP of the parser process); only a parser that answers out of protocol is a stand-in
program, since the real one cannot be made to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from worker_test_kit import Judge
from worker_test_programs import APLUSB, APLUSB_SOURCES

from sandbox import cgroups
from store import Verdict
from worker import languages, python_parser
from worker.execution import CompileFailure, Program, compile_source, sandbox_runner

LANG = languages.get("python3")
LIMITS = dict(LANG.compile_limits)
APLUSB_PY = APLUSB_SOURCES["python3"].encode()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_parser(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JUDGE_PYTHON_PARSER", "1")
    python_parser.shutdown()
    yield
    python_parser.shutdown()


def _compile(files: Mapping[str, bytes], parser: bool, **limits: Any) -> tuple[str, str]:
    """(Program or CompileFailure, the compile output) through the parser or the box."""
    os.environ["JUDGE_PYTHON_PARSER"] = "1" if parser else "0"
    try:
        built, output = compile_source(
            sandbox_runner, LANG, files["main.py"], dict(files), limits=limits or None
        )
    finally:
        os.environ["JUDGE_PYTHON_PARSER"] = "1"
    if isinstance(built, CompileFailure):
        assert built.output == output
    return type(built).__name__, output


def _served(files: Mapping[str, bytes]) -> tuple[bool, bytes] | None:
    return python_parser.check(LANG.compile, files, LIMITS)


def _program_pid() -> int:
    """The parser's interpreter among its box's processes."""
    for pid in python_parser.current_pids():
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            if handle.read().startswith(b"/usr/bin/python3\0-S\0-I\0-c\0"):
                return pid
    raise AssertionError(f"no parser among {python_parser.current_pids()}")


def _gone(pids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if os.path.exists(f"/proc/{p}") and not _zombie(p)]:
            return True
        time.sleep(0.05)
    return False


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _main(src: bytes) -> dict[str, bytes]:
    return {"main.py": src}


# Sources the parser answers itself: its verdict and message must be the box's, byte for byte.
SERVED: dict[str, dict[str, bytes]] = {
    "valid": _main(APLUSB_PY),
    "syntax error": _main(b"print(1\n"),
    "double equals": _main(b"x = = 1\n"),
    "f-string": _main(b"x = f'{'\n"),
    "indentation": _main(b"def f():\nreturn 1\n"),
    "unexpected indent": _main(b"if 1:\n  a = 1\n    b = 2\n"),
    "tab error": _main(b"if True:\n\tx = 1\n        y = 2\n"),
    "too deep blocks": _main(
        b"".join(b" " * i + b"if 1:\n" for i in range(101)) + b" " * 101 + b"pass\n"
    ),
    "null byte": _main(b"x = 1\x00\n"),
    "only a null": _main(b"\x00"),
    "latin-1 declared": _main(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"),
    "cp1252 vim line": _main(b"# vim: set fileencoding=cp1252 :\nx = '\x80'\n"),
    "unknown codec": _main(b"# coding: no-such-codec\nx = 1\n"),
    "bytes codec": _main(b"# coding: zlib_codec\nx = 1\n"),
    "bom and latin-1": _main(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n"),
    "bom": _main(b"\xef\xbb\xbfprint('ok')\n"),
    "non-utf-8 string": _main(b"x = '\xff\xfe'\n"),
    "non-utf-8 comment": _main(b"# \xff comment\nx = 1\n"),
    "warning then error": _main(b"x = 1 is 1\nreturn 5\n"),
    "same warning again": _main(b"x = 1 is 1\nreturn 5\n"),
    "assert tuple then break": _main(b"assert(1, 2)\nbreak\n"),
    "invalid escape then error": _main(b'x = "\\d"\nyield\n'),
    "nonlocal at module level": _main(b"nonlocal x\n"),
    "global after assignment": _main(b"def f():\n    x = 1\n    global x\n"),
    "await outside": _main(b"await x\n"),
    "too many parentheses": _main(b"(" * 250 + b")" * 250 + b"\n"),
    "recursion well inside": _main(b"-" * 2900 + b"1\n"),
    "long bad line": _main(b"x = [" + b"1, " * 100_000 + b"]]\n"),
    # As large as the web form takes (256 KiB).
    "large valid": _main(b"".join(b"v%d = %d * 2 + 1\n" % (i, i) for i in range(12_000))),
    "large, error at the end": _main(b"x = 1\n" * 40_000 + b"def (\n"),
    "second file bad": {"main.py": APLUSB_PY, "util.py": b"def f(\n"},
    "two bad, sorted order": {"main.py": b"print(\n", "a.py": b"x = = 1\n"},
    "data files beside": {"main.py": APLUSB_PY, "data.txt": b"\xff\x00 not python", "a.in": b"("},
    "harm, valid": _main(
        b"import os\nopen('/tmp/pwned-by-parser', 'w').write('x')\nprint('PWNED')\n"
        b"os.system('touch /tmp/pwned-by-parser-2')\nwhile True: pass\n"
    ),
    "harm, then an error": _main(
        b"open('/tmp/pwned-by-parser', 'w').write('x')\nprint('PWNED')\nraise SystemExit(3\n"
    ),
}

# Sources the box decides (the parser's answer could differ from the box's): same outcome.
DEFERRED: dict[str, dict[str, bytes]] = {
    "recursion at the box's edge": _main(b"-" * 2992 + b"1\n"),
    "recursion past it": _main(b"-" * 2993 + b"1\n"),
    "deep binary op": _main(b"a = " + b"1 + " * 100_000 + b"1\n"),
    "parser stack": _main(b"not " * 7000 + b"x\n"),
    "lambdas": _main(b"lambda: " * 5000 + b"1\n"),
    "a directory": {"main.py": APLUSB_PY, "pkg/mod.py": b"def (\n"},
    "a file named like the check": {"main.py": b"print(\n", "<string>": b"secret\n"},
    # A warning per line: over the box's 1 MiB of output, the box stops the check (OLE).
    "a message over the output cap": _main(
        (b"x = 1 is 1 or '" + b"a" * 1000 + b"'\n") * 1100 + b"return\n"
    ),
    "more than the parser's memory": _main(b"x = 1\n" * 300_000 + b"def (\n"),
    "over the size cap": _main(b"#" * python_parser.MAX_SOURCES + b"\nx = (\n"),
}


def test_parser_answers_exactly_as_the_box_twice_over() -> None:
    box = {name: _compile(files, parser=False) for name, files in SERVED.items()}
    assert box["valid"] == ("Program", "")
    assert box["syntax error"][0] == "CompileFailure"
    assert "util.py" in box["second file bad"][1]
    assert "a.py" in box["two bad, sorted order"][1]
    assert "SyntaxWarning" in box["warning then error"][1]
    assert box["harm, valid"] == ("Program", "")
    pids: list[int] = []
    for round_ in range(2):  # the same parser twice over: nothing of one check stays
        for name, files in SERVED.items():
            said = _served(files)
            assert said is not None, f"{name}: not served"
            answered = python_parser.counts()["answered"]
            assert _compile(files, parser=True) == box[name], f"{name} (round {round_})"
            assert python_parser.counts()["answered"] == answered + 1, (
                f"{name}: compile_source did not take the parser's answer"
            )
            pids = pids or python_parser.current_pids()
            if name.startswith("large"):
                # Its peak memory may retire the parser after the answer (a fresh heap).
                pids = python_parser.current_pids()
            assert python_parser.current_pids() == pids, f"{name}: the parser was replaced"
    assert not os.path.exists("/tmp/pwned-by-parser")
    assert not os.path.exists("/tmp/pwned-by-parser-2")


def test_sources_near_a_limit_or_laid_out_oddly_go_to_the_box() -> None:
    for name, files in DEFERRED.items():
        box = _compile(files, parser=False)
        assert _served(files) is None, name
        answered = python_parser.counts()["answered"]
        assert _compile(files, parser=True) == box, name
        assert python_parser.counts()["answered"] == answered, name
    assert _compile(DEFERRED["recursion at the box's edge"], parser=False) == ("Program", "")
    assert "RecursionError" in _compile(DEFERRED["recursion past it"], parser=False)[1]
    assert _compile(DEFERRED["a message over the output cap"], parser=False)[1].endswith(
        "[... output truncated]"
    )
    # A deferral of the parser's own making (RecursionError) replaced it; the next is served.
    assert _served(SERVED["syntax error"]) is not None


def test_harmful_sources_do_nothing_but_get_their_verdict(tmp_path: Path) -> None:
    marker = tmp_path / "created"
    src = (
        f"open({str(marker)!r}, 'w').write('x')\nprint('PWNED' * 1000)\n"
        "import os\nos.kill(os.getppid(), 9)\nwhile True: pass\n"
    ).encode()
    started = time.monotonic()
    assert _served(_main(src)) == (True, b"")
    assert _served(_main(src + b"def (\n"))[0] is False  # type: ignore[index]
    assert time.monotonic() - started < 5
    assert not marker.exists()


def test_sigkill_mid_request_gets_the_box_verdict_and_a_new_parser() -> None:
    assert _served(SERVED["valid"]) is not None
    old = python_parser.current_pids()
    victim = _program_pid()
    os.kill(victim, signal.SIGSTOP)  # holds the request in flight while we kill it
    files = SERVED["two bad, sorted order"]
    expected = _compile(files, parser=False)
    got: list[tuple[str, str]] = []
    worker = threading.Thread(target=lambda: got.append(_compile(files, parser=True)))
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive(), "the check did not wait for the stopped parser"
    os.kill(victim, signal.SIGKILL)
    worker.join(20)
    assert got == [expected]
    assert _gone(old)
    assert _served(SERVED["syntax error"]) is not None  # a new parser, started on demand
    assert set(python_parser.current_pids()).isdisjoint(old)


def test_a_hung_parser_is_killed_at_the_compile_time_limit() -> None:
    assert _served(SERVED["valid"]) is not None
    old = python_parser.current_pids()
    os.kill(_program_pid(), signal.SIGSTOP)
    files = SERVED["tab error"]
    expected = _compile(files, parser=False, cpu_time=1.0)
    started = time.monotonic()
    assert _compile(files, parser=True, cpu_time=1.0) == expected
    assert 1.0 <= time.monotonic() - started < 5
    assert _gone(old)
    assert _served(SERVED["valid"]) == (True, b"")
    assert set(python_parser.current_pids()).isdisjoint(old)


# Stand-ins for a parser gone wrong: the answer is read, never believed.
_ASKED = "import os\nr = os.read(0, 1 << 20)\nnonce = r[4:12]\n"
_WRONG = {
    "garbage": _ASKED + "os.write(1, b'\\x00\\x00\\x00\\x03zzz')\nos.read(0, 1)\n",
    "two answers": _ASKED + "os.write(1, (b'\\x00\\x00\\x00\\x09' + nonce + b'0') * 2)\n"
                   "os.read(0, 1)\n",
    "wrong nonce": _ASKED + "os.write(1, b'\\x00\\x00\\x00\\x09' + bytes(8) + b'0')\n"
                   "os.read(0, 1)\n",
    "huge frame": _ASKED + "os.write(1, b'\\x7f\\xff\\xff\\xff' + nonce + b'1')\nos.read(0, 1)\n",
    "answers before asked": "import os\nos.write(1, b'\\x00\\x00\\x00\\x09' + bytes(8) + b'0')\n"
                            "os.read(0, 1)\n",
    "dies": "import os\nos.read(0, 4)\nos._exit(3)\n",
    "unknown status": _ASKED + "os.write(1, b'\\x00\\x00\\x00\\x09' + nonce + b'7')\n"
                      "os.read(0, 1)\n",
    "CE without words": _ASKED + "os.write(1, b'\\x00\\x00\\x00\\x0b' + nonce + b'1 \\n')\n"
                        "os.read(0, 1)\n",
}


@pytest.mark.parametrize("wrong", sorted(_WRONG))
def test_an_answer_out_of_protocol_is_never_believed(
    wrong: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(python_parser, "PROGRAM", _WRONG[wrong])
    for files in (SERVED["valid"], SERVED["syntax error"]):
        expected = _compile(files, parser=False)
        assert _served(files) is None
        assert _compile(files, parser=True) == expected
        assert python_parser.current_pids() == []  # replaced, lazily


def test_the_parser_box_has_no_network_and_writes_only_in_its_box(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = f"parser-probe-{os.getpid()}"
    probe = (
        "import os, socket\nr = os.read(0, 1 << 20)\nfound = []\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); found.append('net')\n"
        "except OSError: found.append('no-net')\n"
        "for path in ('/usr/x', '/etc/x', '/x', '/proc/sys/kernel/hostname'):\n"
        "    try:\n        open(path, 'w').write('x'); found.append('wrote ' + path)\n"
        "    except OSError: pass\n"
        f"open('/tmp/{marker}', 'w').write('x')\n"
        "out = ' '.join(found).encode()\n"
        "os.write(1, (9 + len(out)).to_bytes(4, 'big') + r[4:12] + b'1' + out)\nos.read(0, 1)\n"
    )
    monkeypatch.setattr(python_parser, "PROGRAM", probe)
    assert _served(SERVED["valid"]) == (False, b"no-net")
    assert not os.path.exists(f"/tmp/{marker}")


def test_a_forked_child_uses_its_own_parser_and_leaves_the_parents_alone() -> None:
    assert _served(SERVED["valid"]) is not None
    parent_pids = python_parser.current_pids()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's report goes through the pipe)
        code = 1
        try:
            os.close(read_end)
            assert python_parser.current_pids() == []
            said = _served(SERVED["syntax error"])
            mine = python_parser.current_pids()
            os.write(write_end, repr((said is not None and not said[0], mine)).encode())
            python_parser.shutdown()
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read()
    assert os.waitpid(child, 0)[1] == 0
    served, child_pids = eval(report)
    assert served is True
    assert child_pids and set(child_pids).isdisjoint(parent_pids)
    assert _gone(child_pids)
    assert _served(SERVED["valid"]) == (True, b"")
    assert python_parser.current_pids() == parent_pids


def _destroy_boxes_of(pid: int) -> None:
    """Cgroups of a process we killed (a later process would clean them as stale)."""
    backend = cgroups.backend()
    for directory in backend.box_dirs():
        if os.path.basename(directory).startswith(f"box-{pid}-"):
            backend.destroy(directory)


def test_the_parser_ends_with_its_process() -> None:
    code = (
        "import sys\nfrom worker import languages, python_parser\n"
        "lang = languages.get('python3')\n"
        "said = python_parser.check(lang.compile, {'main.py': b'x = 1\\n'},"
        " dict(lang.compile_limits))\n"
        "print(said, *python_parser.current_pids(), flush=True)\n"
        "if sys.argv[1] == 'kill':\n"
        "    import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "JUDGE_PYTHON_PARSER": "1"}
    for how in ("exit", "kill"):
        proc = subprocess.Popen([sys.executable, "-c", code, how], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=60)
        try:
            said, *pids = out.decode().replace("(True, b'')", "served").split()
            assert said == "served", (out, err)
            assert pids
            assert _gone([int(p) for p in pids]), how
            if how == "exit":
                assert proc.returncode == 0, err
                left = [d for d in cgroups.backend().box_dirs()
                        if os.path.basename(d).startswith(f"box-{proc.pid}-")]
                assert left == []
        finally:
            _destroy_boxes_of(proc.pid)


def test_switched_off_every_check_is_a_box() -> None:
    os.environ["JUDGE_PYTHON_PARSER"] = "0"
    try:
        assert _served(SERVED["valid"]) is None
        built, _ = compile_source(sandbox_runner, LANG, APLUSB_PY)
        assert isinstance(built, Program)
        assert python_parser.current_pids() == []
    finally:
        os.environ["JUDGE_PYTHON_PARSER"] = "1"


def _parsers_under(root: int) -> list[int]:
    """Parser interpreters whose ancestry reaches `root` (a worker's main process)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if not handle.read().startswith(b"/usr/bin/python3\0-S\0-I\0-c\0\"\"\"The long"):
                    continue
        except OSError:
            continue
        pid = int(entry)
        while pid > 1:
            if pid == root:
                found.append(int(entry))
                break
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    pid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                break
    return found


def test_through_a_real_worker(make_judge: Callable[..., Judge]) -> None:
    j = make_judge()
    j.add_problem(APLUSB)
    w = j.start_worker(concurrency=1)
    (pool_process,) = w.children()
    try:
        assert _parsers_under(w.proc.pid) == []  # started lazily, by the first check
        ok = j.run("aplusb", "python3", APLUSB_SOURCES["python3"])
        assert ok.verdict == Verdict.AC
        bad_src = "a, b = map(int, input().split())\nprint(a + b\n"
        bad = j.run("aplusb", "python3", bad_src)
        assert bad.verdict == Verdict.CE
        assert bad.compile_output == _compile(_main(bad_src.encode()), parser=False)[1]
        # A program that prints what a syntax error looks like is not a CE.
        liar = j.run("aplusb", "python3",
                     "import sys\nprint('SyntaxError: invalid syntax', file=sys.stderr)\n"
                     + APLUSB_SOURCES["python3"])
        assert liar.verdict == Verdict.AC
        parsers = _parsers_under(w.proc.pid)
        assert len(parsers) == 1, parsers
    finally:
        w.stop()
    assert _gone(parsers), "the parser outlived its worker"
    left = [d for d in cgroups.backend().box_dirs()
            if os.path.basename(d).startswith(f"box-{pool_process}-")]
    assert left == [], "the parser's box was not torn down at the pool process's exit"
    w2 = j.start_worker(concurrency=1)
    pool = w2.children()
    assert j.run("aplusb", "python3", "print(\n").verdict == Verdict.CE
    parsers = _parsers_under(w2.proc.pid)
    assert len(parsers) == 1
    w2.kill()  # SIGKILL, main process and pool
    try:
        assert _gone(parsers), "the parser outlived a SIGKILLed worker"
    finally:
        for pid in pool:
            _destroy_boxes_of(pid)
