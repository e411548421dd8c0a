"""Build and locate the native helper (boxinit.c) with the system C compiler.

Built once per source version into a root-owned cache directory; the binary is named by the
source's hash, so an upgrade never runs a stale helper.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import threading
from importlib import resources

from ..errors import HostUnsupportedError

_lock = threading.Lock()
_path: str | None = None


def cache_dir() -> str:
    base = os.environ.get("SANDBOX_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "pysandbox")
    os.makedirs(base, mode=0o700, exist_ok=True)
    st = os.lstat(base)
    # The helper runs as root: a cache dir someone else controls would be a root exploit.
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise HostUnsupportedError(f"helper cache {base} must be ours and not group/world-writable")
    return base


def helper_path() -> str:
    """Path of the compiled helper, building it on first use."""
    global _path
    with _lock:
        if _path is None:
            _path = _build()
        return _path


def _build() -> str:
    source = resources.files(__package__).joinpath("boxinit.c").read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    directory = cache_dir()
    target = os.path.join(directory, f"boxinit-{digest}")
    if os.path.exists(target):
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise HostUnsupportedError("no C compiler (cc) to build the sandbox helper; install gcc")
    with open(os.path.join(directory, ".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(target):
            return target
        src = os.path.join(directory, f"boxinit-{digest}.c")
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
