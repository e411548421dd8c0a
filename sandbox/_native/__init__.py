"""Build and locate the native helper (boxinit.c) with the system C compiler.

Built once per source version into a root-owned cache directory; the binary is named by the
source's hash, so an upgrade never runs a stale helper.
"""

from __future__ import annotations

import _thread  # (threading's Lock is this; threading itself costs a one-shot run)
import os

from .._cache import cache_dir, sha256_hex
from ..errors import HostUnsupportedError

_lock = _thread.allocate_lock()
_path: str | None = None
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "boxinit.c")


def helper_path() -> str:
    """Path of the compiled helper, building it on first use."""
    global _path
    with _lock:
        if _path is None:
            _path = _build()
        return _path


def _build() -> str:
    with open(SOURCE, "rb") as handle:
        source = handle.read()
    digest = sha256_hex(source)[:16]
    directory = cache_dir()
    target = os.path.join(directory, f"boxinit-{digest}")
    if _trusted(target):
        return target
    return _compile(source, directory, target)


def _trusted(target: str) -> bool:
    """Whether a built helper is in place, a regular file of ours no one else can write (it
    runs as root). Another kind of entry there is refused, not replaced."""
    import stat

    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise HostUnsupportedError(f"sandbox helper {target} is not a file only we can write")
    return True


def _compile(source: bytes, directory: str, target: str) -> str:
    import contextlib
    import fcntl
    import shutil
    import subprocess

    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise HostUnsupportedError("no C compiler (cc) to build the sandbox helper; install gcc")
    with open(os.path.join(directory, ".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _trusted(target):
            return target
        src = f"{target}.c"
        tmp = f"{target}.tmp{os.getpid()}"
        with open(src, "wb") as handle:
            handle.write(source)
        # Static when the C library allows it: no dynamic loader on every run (~0.1 ms).
        for flags in (["-static"], []):
            proc = subprocess.run([compiler, "-O2", "-Wall", *flags, "-o", tmp, src],
                                  capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                break
        if proc.returncode != 0:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            first = (proc.stderr.strip().splitlines() or ["unknown error"])[0]
            raise HostUnsupportedError(f"building the sandbox helper failed: {first}")
        os.chmod(tmp, 0o700)
        os.rename(tmp, target)
    return target
