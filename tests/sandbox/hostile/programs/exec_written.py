"""Try to execute what the box can write: files in /box, /tmp and /dev/shm, memfds, the
stdin memfd, and the given executable after rewriting or replacing it. One line per try:
"NAME: ok" (it ran) or "NAME: ERRNO". argv[1:] picks the tries (all by default);
JUNK=1 writes a header no binary format knows (the module-autoload probe) instead of a
copy of /usr/bin/true."""

import contextlib
import errno
import os
import sys

with open("/usr/bin/true", "rb") as source:
    TRUE = source.read()
PAYLOAD = b"\x7e\x01\x02\x03" + b"\0" * 60 if os.environ.get("JUNK") == "1" else TRUE
MFD_EXEC = 0x10


def attempt(target, fd=None):
    """exec `target` (a path, or an fd with execveat) in a child: "ok" or the errno name."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            os.execve(target, ["x"], {})
        except OSError as e:
            os.write(wr, errno.errorcode.get(e.errno, str(e.errno)).encode())
        os._exit(99)
    os.close(wr)
    said = os.read(rd, 64).decode()
    os.close(rd)
    _, status = os.waitpid(pid, 0)
    if said:
        return said
    return "ok" if os.WIFEXITED(status) and os.WEXITSTATUS(status) in (0, 1) else f"status {status}"


def written(path):
    with open(path, "wb") as f:
        f.write(PAYLOAD)
    os.chmod(path, 0o755)
    return attempt(path)


def memfd(flags):
    try:
        fd = os.memfd_create("m", flags)
    except OSError as e:
        return errno.errorcode[e.errno]
    os.write(fd, PAYLOAD)
    with contextlib.suppress(OSError):  # (sealed against exec: 6.3+, vm.memfd_noexec)
        os.fchmod(fd, 0o755)
    via_proc = attempt(f"/proc/self/fd/{fd}")
    via_fd = attempt(fd)
    return via_proc if via_proc == via_fd else f"{via_proc}/{via_fd}"


def given_rewrite():
    out = []
    try:
        with open("prog", "r+b") as f:
            f.write(PAYLOAD)
        out.append("written")
    except OSError as e:
        out.append(errno.errorcode[e.errno])
    try:
        os.chmod("prog", 0o777)
        out.append("chmodded")
    except OSError as e:
        out.append(errno.errorcode[e.errno])
    return " ".join(out)


def given_replace():
    os.unlink("prog")
    return written("prog")


TRIES = {
    "system": lambda: attempt("/usr/bin/true"),
    "bin": lambda: attempt("/bin/true"),
    "given": lambda: attempt("./prog"),
    "box": lambda: written("/box/w"),
    "tmp": lambda: written("/tmp/w"),
    "shm": lambda: written("/dev/shm/w"),
    "memfd": lambda: memfd(0),
    "memfd_exec_flag": lambda: memfd(MFD_EXEC),
    "stdin": lambda: attempt("/proc/self/fd/0"),
    "given_rewrite": given_rewrite,
    "given_replace": given_replace,  # (last: it removes prog)
}

for name in sys.argv[1:] or list(TRIES):
    print(f"{name}: {TRIES[name]()}", flush=True)
