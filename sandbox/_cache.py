"""The on-disk cache of things built once per version: the native helper binary and compiled
seccomp programs.

Both end up running as root or deciding what a box may do, so whoever can write the cache
owns every box. The cache is used only when every directory on its path is owned by root or
by us and writable by no one else (a sticky directory such as /tmp is fine above it: others
cannot rename our entries there), and the cache directory itself is ours alone. Entries are
written to a temporary name and renamed into place (a reader never sees half a file), and
read through the directory's fd without following symlinks, only when they are regular files
of ours that no one else can write.
"""

from __future__ import annotations

import contextlib
import os
import stat

from .errors import HostUnsupportedError


def sha256_hex(data: bytes) -> str:
    try:  # the built-in module: hashlib would load OpenSSL (milliseconds per one-shot run)
        from _sha256 import sha256  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha256
    return str(sha256(data).hexdigest())


def cache_dir() -> str:
    """The cache directory (SANDBOX_CACHE_DIR, else $XDG_CACHE_HOME/pysandbox), made if
    missing, after checking that no one but root and us can change what is in it."""
    base = os.environ.get("SANDBOX_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "pysandbox")
    os.makedirs(base, mode=0o700, exist_ok=True)
    _check_path(os.path.realpath(base), base)
    return base


def _check_path(real: str, shown: str) -> None:
    """Walk `real` from / without following symlinks (one swapped in meanwhile fails)."""
    euid = os.geteuid()
    parts = [p for p in real.split("/") if p]
    fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index in range(len(parts) + 1):
            if index:
                try:
                    new = os.open(parts[index - 1], os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW
                                  | os.O_CLOEXEC, dir_fd=fd)
                except OSError as exc:
                    raise HostUnsupportedError(
                        f"sandbox cache {shown}: cannot open {parts[index - 1]}: "
                        f"{exc.strerror}") from None
                os.close(fd)
                fd = new
            st = os.fstat(fd)
            last = index == len(parts)
            where = "/" + "/".join(parts[:index])
            if last and (st.st_uid != euid or st.st_mode & 0o022):
                raise HostUnsupportedError(
                    f"sandbox cache {shown} must be ours and not group/world-writable")
            if st.st_uid not in (0, euid) or (
                    st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX):
                raise HostUnsupportedError(
                    f"sandbox cache {shown}: {where} can be changed by another user "
                    "(owned by someone else, or group/world-writable without the sticky bit)")
    finally:
        os.close(fd)


def read(directory: str, name: str, limit: int = 1 << 20) -> bytes | None:
    """The entry's bytes, or None if it is missing or not a file only we could have written."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                     dir_fd=dir_fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid()
                or st.st_mode & 0o022 or st.st_nlink != 1 or st.st_size > limit):
            return None
        chunks = []
        while chunk := os.read(fd, limit + 1):
            chunks.append(chunk)
        data = b"".join(chunks)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def write(directory: str, name: str, data: bytes) -> None:
    """Put `data` in place as `name` at once: a temporary file (mode 0600, made with
    O_EXCL), written in full, then renamed over any old entry."""
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    tmp = f".{name}.tmp{os.getpid()}"
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600, dir_fd=dir_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    finally:
        os.close(dir_fd)
