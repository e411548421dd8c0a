"""Host-safe file transfer into and out of a box's /box tmpfs, through a directory fd only.

Copy-out is where judges have been broken (Judge0, 2024: symlinks planted by the program made
the host read or chown arbitrary files). Here the host never resolves a path the box
controls: every component is opened with O_NOFOLLOW relative to the previous directory's fd,
the final file must be a regular file, it is opened O_NONBLOCK so a FIFO cannot block us
(and is then refused), and at most `cap` bytes are read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

from .errors import SandboxError

BytesLike = bytes | bytearray | memoryview


def box_relative(path: str, what: str) -> list[str]:
    """Components of a box path; relative paths are relative to /box. No '..' escapes."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise SandboxError(f"{what}: bad box path {path!r}")
    if path.startswith("/"):
        if path != "/box" and not path.startswith("/box/"):
            raise SandboxError(f"{what}: {path} is outside /box")
        path = path[len("/box"):]
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise SandboxError(f"{what}: bad box path {path!r}")
    return parts


def _open_dirs(root_fd: int, parts: list[str], create: bool, uid: int, gid: int) -> int:
    fd = os.dup(root_fd)
    try:
        for part in parts:
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    os.chown(part, uid, gid, dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    pass
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                          dir_fd=fd)
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def copy_in(root_fd: int, files: Mapping[str, object], executables: set[str], uid: int,
            gid: int) -> None:
    """Write `files` into the fresh box tmpfs (nothing untrusted has touched it yet).
    `executables`: the plan's, which already counts files copied from executable host files
    (make_plan asked the host once, and the helper's exec rules follow the same set)."""
    for name, content in files.items():
        parts = box_relative(name, "files")
        data = _content(name, content)
        # An executable is host root's and read-only: the program may run it, never
        # rewrite it into something else to run (see _exec_paths).
        runnable = name in executables
        mode = 0o555 if runnable else 0o644
        try:
            dir_fd = _open_dirs(root_fd, parts[:-1], True, uid, gid)
        except OSError as exc:
            raise SandboxError(f"files: cannot create the directory of {name}: {exc.strerror}") from None
        try:
            fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW |
                         os.O_CLOEXEC, mode, dir_fd=dir_fd)
        except OSError as exc:
            raise SandboxError(f"files: cannot create {name}: {exc.strerror}") from None
        finally:
            os.close(dir_fd)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, mode)
            if not runnable:
                os.fchown(fd, uid, gid)
        except OSError as exc:
            raise SandboxError(f"files: {name} does not fit in the box ({exc.strerror})") from None
        finally:
            os.close(fd)


def host_executable(content: object) -> bool:
    if isinstance(content, (str, os.PathLike)):
        return os.access(os.fspath(content), os.X_OK) and os.path.isfile(content)
    return False


def _content(name: str, content: object) -> BytesLike:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return content
    if isinstance(content, (str, os.PathLike)):
        try:
            with open(content, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise SandboxError(f"files: cannot read {os.fspath(content)}: {exc.strerror}") from None
    raise SandboxError(f"files: {name}: expected bytes or a host path, got {type(content).__name__}")


class CopyOutError(Exception):
    """One copy-out file was refused; the reason is a sentence for Result.message."""


#: Files one directory copy-out may bring back (a name ending in "/").
MAX_TREE_FILES = 256


def copy_out(root_fd: int, name: str, cap: int) -> bytes:
    parts = box_relative(name, "copy_out")
    try:
        dir_fd = _open_dirs(root_fd, parts[:-1], False, 0, 0)
    except OSError as exc:
        raise CopyOutError(f"copy-out {name}: {exc.strerror}") from None
    try:
        return _read_file(dir_fd, parts[-1], name, cap)
    finally:
        os.close(dir_fd)


def copy_out_tree(root_fd: int, name: str, cap: int) -> dict[str, bytes]:
    """Every file under the box directory `name` (a copy-out name ending in "/"), keyed by
    `name` + its path below it: each by `copy_out`'s rules, at most `cap` bytes and
    MAX_TREE_FILES files in all. Directories are walked by fd, never by a path the box
    could redirect; a symlink or other non-regular entry refuses the whole copy-out."""
    try:
        top = _open_dirs(root_fd, box_relative(name, "copy_out"), False, 0, 0)
    except OSError as exc:
        raise CopyOutError(f"copy-out {name}: {exc.strerror}") from None
    found: dict[str, bytes] = {}
    pending = [(top, name if name.endswith("/") else name + "/")]
    try:
        while pending:
            dir_fd, prefix = pending.pop()
            try:
                for entry in sorted(os.listdir(dir_fd)):
                    path = prefix + entry
                    if len(found) + len(pending) >= MAX_TREE_FILES:
                        raise CopyOutError(f"copy-out {name}: more than {MAX_TREE_FILES} files")
                    mode = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False).st_mode
                    if stat.S_ISDIR(mode):
                        sub = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
                                      os.O_CLOEXEC, dir_fd=dir_fd)
                        pending.append((sub, path + "/"))
                        continue
                    left = cap - sum(len(data) for data in found.values())
                    found[path] = _read_file(dir_fd, entry, path, left)
            except OSError as exc:
                raise CopyOutError(f"copy-out {name}: {exc.strerror}") from None
            finally:
                os.close(dir_fd)
    finally:
        for dir_fd, _ in pending:
            os.close(dir_fd)
    return found


def _read_file(dir_fd: int, leaf: str, name: str, cap: int) -> bytes:
    try:
        fd = os.open(leaf, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY |
                     os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        reason = "is a symlink" if exc.errno == 40 else exc.strerror
        raise CopyOutError(f"copy-out {name}: {reason}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CopyOutError(f"copy-out {name}: not a regular file")
        if st.st_size > cap:
            raise CopyOutError(f"copy-out {name}: larger than {cap} bytes")
        chunks = []
        total = 0
        while total <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise CopyOutError(f"copy-out {name}: larger than {cap} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)
