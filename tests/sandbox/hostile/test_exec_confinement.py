"""A box executes only what it cannot write (sandbox/_exec_paths.py): system files, the
read-only binds and the given executables. Exec of a file whose header no binary format
knows makes the kernel run modprobe ("binfmt-XXXX") as host root, outside the box's
cgroup and limits, once per attempt: a box that could exec what it writes could keep the
host's cores busy with modprobes for its whole wall time, uncharged.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest
from hostile_support import Hostile, assert_verdict, describe, lines

from sandbox import Verdict, _exec_paths

TRUE = Path("/usr/bin/true").read_bytes()
GIVEN = {"files": {"prog": TRUE}, "executables": ["prog"], "stdin": TRUE}


def _kernel_at_least(major: int, minor: int) -> bool:
    numbers = platform.release().split("-")[0].split(".")
    return (int(numbers[0]), int(numbers[1])) >= (major, minor)


# vm.memfd_noexec, which makes a box's memfds non-executable, is Linux 6.3+.
MEMFD_NOEXEC = _kernel_at_least(6, 3) and Path("/proc/sys/vm/memfd_noexec").exists()

needs_landlock = pytest.mark.skipif(not _exec_paths.supported(),
                                    reason="the kernel has no Landlock: exec is not confined")


def _tries(hostile: Hostile, *names: str, env: dict[str, str] | None = None) -> dict[str, str]:
    result = hostile.py("exec_written", *names, env=env, **GIVEN)  # type: ignore[arg-type]
    assert_verdict(result, Verdict.OK)
    return dict(line.split(": ", 1) for line in lines(result))


@needs_landlock
def test_what_the_box_wrote_never_runs_and_what_it_was_given_does(hostile: Hostile) -> None:
    got = _tries(hostile)
    want = {
        "system": "ok", "bin": "ok", "given": "ok",
        "box": "EACCES", "tmp": "EACCES", "shm": "EACCES",
        "memfd_exec_flag": "EINVAL",  # seccomp: MFD_EXEC is refused
        "stdin": "EACCES",  # the host's stdin memfd is mode 0444
        "given_rewrite": "EACCES EPERM",  # host root's, 0555: neither written nor chmodded
        "given_replace": "EACCES",  # a new file of the same name is not the given one
        "memfd": "EACCES" if MEMFD_NOEXEC else "ok",  # (before 6.3: not confined, see README)
    }
    assert got == want, got


@needs_landlock
def test_a_junk_header_is_refused_before_the_kernel_looks_for_a_format(
        hostile: Hostile) -> None:
    got = _tries(hostile, "box", "tmp", "shm", "stdin", env={"JUNK": "1"})
    assert got == {"box": "EACCES", "tmp": "EACCES", "shm": "EACCES", "stdin": "EACCES"}, got


def test_the_opt_out_lets_written_files_run(hostile: Hostile,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_EXEC_WRITTEN", "1")
    assert not _exec_paths.enforced()
    got = _tries(hostile, "given", "box", "tmp", "shm", "stdin", "given_rewrite")
    # Only the confinement goes: the given executable stays read-only, stdin not executable.
    assert got == {"given": "ok", "box": "ok", "tmp": "ok", "shm": "ok", "stdin": "EACCES",
                   "given_rewrite": "EACCES EPERM"}, got


@needs_landlock
def test_scripts_and_binds_still_run(hostile: Hostile, tmp_path: Path) -> None:
    import sandbox

    script = b"#!/bin/sh\nexec /usr/bin/python3 -c 'print(6 * 7)'\n"
    ran = sandbox.run(["./s.sh"], {"cpu_time": 5}, files={"s.sh": script}, executables=["s.sh"])
    assert ran.verdict is Verdict.OK and ran.stdout == b"42\n", describe(ran)
    shell = sandbox.run(["/bin/sh", "-c", "cd /tmp && echo hi | /usr/bin/tr a-z A-Z"])
    assert shell.stdout == b"HI\n", describe(shell)


# ---------- the kernel's module request, seen for real (throw-away v2 guest only) ----------

MODPROBE = Path("/proc/sys/kernel/modprobe")


@pytest.fixture
def modprobe_log(tmp_path: Path) -> Path:
    """kernel.modprobe pointed at a logger for the test: the whole kernel's setting, so only
    in the guest."""
    log = tmp_path / "modprobe.log"
    logger = tmp_path / "modprobe.sh"
    logger.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\nexit 1\n")
    logger.chmod(0o755)
    old = MODPROBE.read_text()
    MODPROBE.write_text(str(logger))
    try:
        yield log
    finally:
        MODPROBE.write_text(old)


@pytest.mark.skipif(os.environ.get("SANDBOX_TEST_V2_GUEST") != "1" or not MODPROBE.exists(),
                    reason="changes kernel.modprobe: only on the throw-away v2 guest")
def test_no_box_makes_the_kernel_run_modprobe(hostile: Hostile, modprobe_log: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def requests() -> list[str]:
        text = modprobe_log.read_text() if modprobe_log.exists() else ""
        return [line for line in text.splitlines() if "binfmt-" in line]

    tries = ("box", "tmp", "shm", "stdin") + (("memfd",) if MEMFD_NOEXEC else ())
    got = _tries(hostile, *tries, env={"JUNK": "1"})
    assert set(got.values()) == {"EACCES"} and requests() == [], (got, requests())
    # Control: without the confinement the same box makes the kernel ask, once per exec.
    monkeypatch.setenv("SANDBOX_EXEC_WRITTEN", "1")
    got = _tries(hostile, "box", "tmp", env={"JUNK": "1"})
    assert got == {"box": "ENOEXEC", "tmp": "ENOEXEC"}, got
    assert requests() == ["-q -- binfmt-0302"] * 2, requests()
