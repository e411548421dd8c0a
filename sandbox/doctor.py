"""`sandbox doctor`: what this host supports, each check one line, and whether runs will work."""

from __future__ import annotations

import json
import os
import platform
import shutil
from collections.abc import Callable

from .errors import SandboxError


def _check(name: str, probe: Callable[[], str]) -> dict[str, object]:
    try:
        return {"check": name, "ok": True, "detail": probe()}
    except (SandboxError, OSError, ImportError) as exc:
        return {"check": name, "ok": False, "detail": str(exc)}


def _userns() -> str:
    path = "/proc/sys/user/max_user_namespaces"
    with open(path) as handle:
        value = int(handle.read())
    if value == 0:
        raise OSError("user namespaces are disabled (user.max_user_namespaces = 0)")
    return f"max_user_namespaces={value}"


def _cgroups() -> str:
    from . import cgroups

    info = cgroups.backend().describe()
    return json.dumps(info, sort_keys=True)


def _seccomp() -> str:
    from .seccomp import Policy, compile_policy

    program = compile_policy(Policy())
    with open("/proc/self/status") as handle:
        if not any(line.startswith("Seccomp:") for line in handle):
            raise OSError("kernel has no seccomp (CONFIG_SECCOMP)")
    return f"default policy compiles to {len(program) // 8} BPF instructions"


def _helper() -> str:
    from ._native import helper_path

    return helper_path()


def _compiler() -> str:
    found = shutil.which("cc") or shutil.which("gcc")
    if not found:
        raise OSError("no C compiler: install gcc (needed once, to build the helper)")
    return found


def _exec_confinement() -> str:
    # Not a failure when missing (boxes still run, as before): a warning in the detail.
    from . import _exec_paths
    from ._syscalls import landlock_abi

    if _exec_paths.enforced():
        return (f"Landlock ABI {landlock_abi()}: programs execute only system files and "
                "the given executables")
    why = ("SANDBOX_EXEC_WRITTEN=1" if _exec_paths.supported()
           else "the kernel has no Landlock (Linux 5.13+, 'landlock' among its LSMs)")
    return (f"off ({why}): a program can exec files it wrote, and a bad header makes the "
            "host run modprobe as root outside the box's limits")


def _smoke() -> str:
    from ._spawn import one_shot
    from .supervisor import run

    # A check leaves its process as it found it: no zygote and no warm boxes kept for runs
    # that may never come (`judge up` runs this in its supervisor, which never runs a box).
    with one_shot():
        result = run(["/bin/true"])
    if not result.ok:
        raise OSError(f"a /bin/true run ended {result.verdict.value}: {result.message}")
    return f"/bin/true ran in {result.wall_time * 1000:.1f} ms wall"


def report() -> list[dict[str, object]]:
    rows = [
        {"check": "kernel", "ok": True, "detail": platform.release()},
        _check("root", lambda: "uid 0" if os.geteuid() == 0 else (_ for _ in ()).throw(
            OSError("the sandbox must run as root (it creates cgroups and namespaces)"))),
        _check("user namespaces", _userns),
        _check("cgroups", _cgroups),
        _check("seccomp", _seccomp),
        _check("C compiler", _compiler),
        _check("native helper", _helper),
        _check("exec confinement", _exec_confinement),
    ]
    if all(row["ok"] for row in rows):
        rows.append(_check("smoke run", _smoke))
    return rows


def main(as_json: bool = False) -> int:
    rows = report()
    if as_json:
        print(json.dumps(rows))
    else:
        for row in rows:
            mark = "ok  " if row["ok"] else "FAIL"
            print(f"{mark} {row['check']}: {row['detail']}")
    return 0 if all(row["ok"] for row in rows) else 2
