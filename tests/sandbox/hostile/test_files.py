"""Attacks on the host's file handling (DESIGN 5.1, 5.4): copy-out of planted symlinks,
special files, huge files and racing swaps, and files left behind for the next run.

The copy-out runs as host root: if it ever resolved a box-controlled path, it could read
any host file. The secret used here is a root-only file on the host; it must never come
back in `Result.files`.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from hostile_support import (
    MIB,
    Hostile,
    HostSecret,
    assert_no_escape,
    assert_verdict,
    describe,
    lines,
    merged,
)

import sandbox
from sandbox import Result, Verdict


def assert_secret_absent(result: Result, secret: HostSecret) -> None:
    for name, data in result.files.items():
        assert secret.content not in data, f"copy-out of {name} returned the host secret"
    assert secret.content not in result.stdout + result.stderr + result.message.encode()


def test_copy_out_refuses_symlinks_to_host_secrets(hostile: Hostile, secret: HostSecret) -> None:
    names = ["out", "rel", f"d/{secret.path.name}", "viaproc"]
    result = hostile.py("symlink_secret", str(secret.path), copy_out=names)
    assert_verdict(result, Verdict.OK)
    assert_secret_absent(result, secret)
    assert result.files == {}, describe(result)
    # Each refusal is explained in the message, none silently.
    assert result.message.count("copy-out") == len(names), describe(result)
    assert "copy-out out: is a symlink" in result.message, describe(result)



def test_a_directory_copy_out_never_follows_a_link_in_it(secret: HostSecret) -> None:
    # The box plants links beside real files, and a link to the host's /etc in place of a
    # directory: the walk goes by fd with O_NOFOLLOW, and any link refuses it whole.
    code = (f"import os; os.makedirs('fb/sub'); open('fb/ok', 'w').write('fine');"
            f"os.symlink({str(secret.path)!r}, 'fb/link'); os.symlink('/etc', 'fb/sub/etc');"
            f"os.symlink('/etc', 'etcdir')")
    result = sandbox.run(["/usr/bin/python3", "-c", code], merged(None),
                         copy_out=["fb/", "etcdir/"])
    assert_verdict(result, Verdict.OK)
    assert_secret_absent(result, secret)
    assert result.files == {}, describe(result)
    assert "copy-out fb/" in result.message and "copy-out etcdir/" in result.message

def test_copy_out_refuses_special_files_promptly(hostile: Hostile) -> None:
    # A FIFO opened without O_NONBLOCK would block the host forever (no writer is left).
    names = ["fifo", "sock", "dir", "dev"]
    result = hostile.py("special_files", copy_out=names, limits={"wall_time": 5})
    assert_verdict(result, Verdict.OK)
    assert lines(result)[-1] == "planted", describe(result)
    assert result.files == {}, describe(result)
    for name in ("fifo", "dir"):
        assert f"copy-out {name}: not a regular file" in result.message, describe(result)
    # open() of a socket fails by itself (ENXIO); the refusal must still be reported.
    assert "copy-out sock: " in result.message, describe(result)


def test_copy_out_of_a_huge_file_is_capped(hostile: Hostile) -> None:
    # The file cannot grow past the file-size limit (not even sparsely, not with SIGXFSZ
    # ignored), so the host never reads more than that cap.
    limit = 2 * MIB
    result = hostile.c("huge_file", str(limit), copy_out=["out"],
                       limits={"file_size": limit, "disk": "16M"})
    assert_verdict(result, Verdict.OK)
    assert lines(result)[-1] == "size done", describe(result)
    assert len(result.files.get("out", b"")) <= limit, describe(result)


def test_copy_out_of_a_file_over_the_cap_is_refused(hostile: Hostile) -> None:
    # Copy-out's cap is the file-size limit: a file written to exactly that size comes
    # back whole, and the run that tried to go further is OLE, with no partial file.
    result = hostile.c("fsize", copy_out=["/box/big"], limits={"file_size": "1M"})
    assert_verdict(result, Verdict.OUTPUT_LIMIT)
    assert len(result.files.get("/box/big", b"")) <= MIB, describe(result)


@pytest.mark.parametrize("attempt", range(6))
def test_copy_out_swap_race_never_reads_the_secret(hostile: Hostile, secret: HostSecret,
                                                    attempt: int) -> None:
    # A background process swaps regular files and directories with symlinks to the host
    # secret until the box dies. Run several times to land in different states; every time
    # the host gets the box's own data or a refusal.
    result = hostile.c("swap_race", str(secret.path), str(secret.directory),
                       copy_out=["out", f"d/{secret.path.name}"])
    assert_no_escape(result)
    assert_secret_absent(result, secret)
    for data in result.files.values():
        assert data == b"box data\n", describe(result)


def test_nothing_survives_for_the_next_run(hostile: Hostile) -> None:
    # Files in /box, /tmp, /dev/shm, System V IPC objects, an abstract socket held by a
    # daemon: a later box, possibly another user's submission, must find none of them.
    planted = hostile.py("leave_files", "plant", limits={"wall_time": 5})
    assert_verdict(planted, Verdict.OK)
    assert lines(planted)[-1] == "planted", describe(planted)
    looked = hostile.py("leave_files", "look")
    assert_verdict(looked, Verdict.OK)
    assert lines(looked) == ["found: "], describe(looked)


def test_box_files_are_gone_from_the_host(hostile: Hostile) -> None:
    # The box's /box is a detached tmpfs: nothing of it may appear under the sandbox's
    # state directory (whose newroot is only a mount point inside the box's namespace).
    state = os.environ.get("SANDBOX_STATE_DIR", "/run/pysandbox")
    result = hostile.py("leave_files", "plant", limits={"wall_time": 5})
    assert_verdict(result, Verdict.OK)
    assert os.listdir(os.path.join(state, "newroot")) == []


def test_concurrent_boxes_share_nothing(hostile: Hostile) -> None:
    # Boxes run side by side in a judge: a spy box must not reach a resident box's files,
    # IPC, sockets or processes (each has its own namespaces, tmpfs and host uid).
    resident: list[Result] = []
    thread = threading.Thread(target=lambda: resident.append(
        hostile.py("neighbor", "resident", "1.5", limits={"wall_time": 10})))
    thread.start()
    try:
        time.sleep(0.5)  # the resident is set up
        spy = hostile.py("neighbor", "spy", limits={"wall_time": 10})
    finally:
        thread.join()
    assert_verdict(spy, Verdict.OK)
    assert lines(spy) == ["found: "], describe(spy)
    (result,) = resident
    assert_verdict(result, Verdict.OK)
    assert lines(result)[-1] == "resident undisturbed", describe(result)
