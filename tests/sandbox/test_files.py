"""Copy-in and copy-out (DESIGN 3.2, 5.1): paths, modes, host safety, refusals."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import sandbox
from sandbox import Result, SandboxError, Verdict

BOX_PYTHON = "/usr/bin/python3"
BoxPy = Callable[..., Result]

LIST_FILES = r"""
import json, os
out = {}
for top, dirs, names in os.walk("/box"):
    for name in names:
        path = os.path.join(top, name)
        st = os.stat(path)
        out[path] = [open(path, "rb").read().decode("latin-1"), oct(st.st_mode & 0o7777),
                     st.st_uid, st.st_gid]
print(json.dumps(out))
"""


def test_copy_in_relative_absolute_and_nested_paths(box_py: BoxPy) -> None:
    files = {"a.txt": b"A", "/box/b.txt": b"B", "d1/d2/c.txt": b"C", "/box/d1/e.bin": b"\xff\x00"}
    r = box_py(LIST_FILES, files=files)
    assert r.verdict is Verdict.OK, r.stderr
    seen = json.loads(r.stdout)
    assert {p: v[0] for p, v in seen.items()} == {
        "/box/a.txt": "A", "/box/b.txt": "B", "/box/d1/d2/c.txt": "C", "/box/d1/e.bin": "\xff\x00"}
    # Owned by the box's root, so the program may replace its own inputs.
    assert all(v[2:] == [0, 0] for v in seen.values())


def test_copy_in_keeps_the_host_executable_bit(box_py: BoxPy, tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\necho ran \"$@\"\n")
    script.chmod(0o755)
    data = tmp_path / "data.txt"
    data.write_text("plain\n")
    data.chmod(0o644)
    r = box_py(LIST_FILES, files={"run.sh": str(script), "data.txt": data})
    seen = json.loads(r.stdout)
    # An executable is host root's (unmapped in the box: the overflow id) and read-only.
    assert {p: v[1] for p, v in seen.items()} == {"/box/run.sh": "0o555", "/box/data.txt": "0o644"}
    assert seen["/box/run.sh"][2:] == [65534, 65534] and seen["/box/data.txt"][2:] == [0, 0]
    ran = sandbox.run(["./run.sh", "x"], files={"run.sh": script})
    assert ran.verdict is Verdict.OK and ran.stdout == b"ran x\n"


def test_bytes_are_not_executable_unless_named(box_py: BoxPy) -> None:
    script = b"#!/bin/sh\necho hi\n"
    r = box_py(LIST_FILES, files={"x.sh": script, "y.sh": script}, executables=["y.sh"])
    modes = {p: v[1] for p, v in json.loads(r.stdout).items()}
    assert modes == {"/box/x.sh": "0o644", "/box/y.sh": "0o555"}
    assert sandbox.run(["./y.sh"], files={"y.sh": script}, executables=["y.sh"]).stdout == b"hi\n"
    denied = sandbox.run(["./x.sh"], files={"x.sh": script})
    assert denied.verdict is Verdict.RUNTIME_ERROR and denied.exit_code == 127


def test_copy_in_reads_the_host_file_at_run_time_not_a_link(box_py: BoxPy,
                                                           tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("real")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    r = box_py("import os; print(os.path.islink('l'), open('l').read())", files={"l": link})
    assert r.stdout == b"False real\n"


def test_copy_in_large_file_intact(box_py: BoxPy) -> None:
    blob = os.urandom(3 << 20)
    r = box_py("import hashlib; print(hashlib.sha256(open('blob', 'rb').read()).hexdigest())",
               files={"blob": blob})
    import hashlib

    assert r.stdout.strip().decode() == hashlib.sha256(blob).hexdigest()


def test_copy_out_regular_files(box_py: BoxPy) -> None:
    payload = bytes(range(256)) * 10
    code = ("import os; os.makedirs('sub/deeper'); open('out.txt', 'w').write('hello');"
            "open('sub/deeper/o.bin', 'wb').write(bytes(range(256)) * 10);"
            "open('empty', 'w').close()")
    r = box_py(code, copy_out=["out.txt", "/box/sub/deeper/o.bin", "empty"])
    assert r.verdict is Verdict.OK and r.message == ""
    assert r.files == {"out.txt": b"hello", "/box/sub/deeper/o.bin": payload, "empty": b""}



def test_copy_out_of_a_directory_brings_every_file_under_it(box_py: BoxPy) -> None:
    code = ("import os; os.makedirs('fb/sub/deeper'); open('fb/a', 'w').write('1');"
            "open('fb/sub/deeper/b', 'wb').write(bytes(range(256)));"
            "open('fb/empty', 'w').close(); open('outside', 'w').write('not asked')")
    r = box_py(code, copy_out=["fb/", "/box/fb/sub/"], files={"fb/kept": b"copied in"})
    assert r.verdict is Verdict.OK and r.message == "", r.message
    assert r.files == {
        "fb/a": b"1", "fb/empty": b"", "fb/kept": b"copied in",
        "fb/sub/deeper/b": bytes(range(256)), "/box/fb/sub/deeper/b": bytes(range(256)),
    }


def test_copy_out_of_a_directory_keeps_to_its_caps(box_py: BoxPy) -> None:
    many = sandbox.files.MAX_TREE_FILES + 1
    r = box_py(f"import os; os.mkdir('d'); [open(f'd/{{i}}', 'w').close() for i in range({many})]",
               copy_out=["d/"])
    assert r.files == {} and f"copy-out d/: more than {many - 1} files" in r.message
    limit = 1 << 20  # in all, not per file
    r = box_py("pass", {"file_size": limit, "disk": "8M"}, copy_out=["d/"],
               files={"d/x": b"x" * (limit // 2), "d/y": b"y" * (limit // 2 + 1)})
    assert r.files == {} and "copy-out d/y: larger than" in r.message, r.message

def test_copy_out_of_a_copied_in_file_sees_changes(box_py: BoxPy) -> None:
    r = box_py("open('f', 'a').write(' world')", files={"f": b"hello"}, copy_out=["f"])
    assert r.files == {"f": b"hello world"}


def test_copy_out_missing_file_is_reported_not_raised(box_py: BoxPy) -> None:
    r = box_py("print('no file')", copy_out=["nothere.txt"])
    assert r.verdict is Verdict.OK
    assert r.files == {}
    assert "nothere.txt" in r.message


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        ("os.symlink('/etc/shadow', 'x')", "symlink"),
        ("os.symlink('real', 'x'); open('real', 'w').write('secret')", "symlink"),
        ("os.mkfifo('x')", "regular"),
        ("os.mkdir('x')", "regular"),
        ("import socket; socket.socket(socket.AF_UNIX).bind('x')", ""),
    ],
    ids=["symlink-out", "symlink-in", "fifo", "directory", "socket"],
)
def test_copy_out_refuses_non_regular_files(box_py: BoxPy, make: str, reason: str) -> None:
    # A socket cannot even be opened (ENXIO): refused either way, with a message.
    started = time.monotonic()
    r = box_py(f"import os; {make}; print('made')", copy_out=["x", "ok"],
               files={"ok": b"fine"})
    assert time.monotonic() - started < 10  # a FIFO must not block the host
    assert r.verdict is Verdict.OK, (r.message, r.stderr)
    assert "x" not in r.files
    assert r.files == {"ok": b"fine"}
    assert r.message.startswith("copy-out x:") and reason in r.message
    assert "\n" not in r.message


def test_copy_out_never_follows_a_symlinked_directory(box_py: BoxPy) -> None:
    r = box_py("import os; os.symlink('/etc', 'd')", copy_out=["d/passwd"])
    assert r.files == {}
    assert "d/passwd" in r.message


def test_copy_out_refuses_files_over_the_size_cap(box_py: BoxPy) -> None:
    # The program cannot write past file_size (RLIMIT_FSIZE), but a copied-in file can be
    # larger; copy-out applies the same cap.
    limit = 1 << 20
    r = box_py("pass", {"file_size": limit, "disk": "8M"},
               files={"big": b"x" * (limit + 1), "exact": b"y" * limit},
               copy_out=["big", "exact"])
    assert r.verdict is Verdict.OK
    assert "big" not in r.files
    assert r.files["exact"] == b"y" * limit
    assert "big" in r.message and str(limit) in r.message.replace(" ", "")


def test_copy_out_after_a_failing_run_still_works(box_py: BoxPy) -> None:
    r = box_py("open('partial', 'w').write('so far'); raise SystemExit(4)", copy_out=["partial"])
    assert r.verdict is Verdict.RUNTIME_ERROR and r.exit_code == 4
    assert r.files == {"partial": b"so far"}


@pytest.mark.parametrize("bad", ["../escape", "/etc/passwd", "/box/../etc/passwd", "", "/box",
                                 "a/../../b", "nul\x00byte"])
def test_bad_box_paths_are_refused_before_running(bad: str) -> None:
    with pytest.raises(SandboxError):
        sandbox.run(["/bin/true"], files={bad: b"x"})
    with pytest.raises(SandboxError):
        sandbox.run(["/bin/true"], copy_out=[bad])


def test_copy_in_that_does_not_fit_is_a_sandbox_error() -> None:
    with pytest.raises(SandboxError, match="big"):
        sandbox.run(["/bin/true"], {"disk": "1M"}, files={"big": b"x" * (2 << 20)})


def test_copy_in_conflicting_paths_is_a_sandbox_error() -> None:
    # "a" is a file, then "a/b" needs "a" to be a directory.
    with pytest.raises(SandboxError):
        sandbox.run(["/bin/true"], files={"a": b"1", "a/b": b"2"})


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_copy_in_source_is_a_sandbox_error(tmp_path: Path, kind: str) -> None:
    source = tmp_path / "src"
    if kind == "directory":
        source.mkdir()
    with pytest.raises(SandboxError) as info:
        sandbox.run(["/bin/true"], files={"in": source})
    assert str(source) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_too_many_executables_is_one_clear_error() -> None:
    names = [f"x{i}" for i in range(201)]
    with pytest.raises(sandbox.SandboxError, match="at most 200 files may be executable"):
        sandbox.run(["/bin/true"], files={n: b"" for n in names}, executables=names)
