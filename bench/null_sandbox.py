"""A stand-in for ``sandbox.run`` with no isolation at all, for one measurement: the ceiling of
the judge service with every part real except the sandbox (``bench/service_throughput.py
--null-sandbox``). What the service reaches with it, against what it reaches with the real
sandbox, is what the sandbox costs; no sandbox can do better than this.

Never a judge: no namespaces, seccomp, cgroups or limits of any kind, not even a wall clock
(``Popen.wait`` with a timeout polls with sleeps, which cost the service a tenth of its
throughput here: a ceiling must not pay for what it does not measure). A program that never
ends hangs the bench. Programs run as children of the worker's pool process, in a temporary
directory. CPU time comes from
the pool process's reaped-children counter (it grades one run at a time); peak memory is
not measured (0).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sandbox

_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    cmd: Iterable[str],
    limits: sandbox.Limits | Mapping[str, Any] | None = None,  # not applied
    *,
    stdin: bytes | None = None,
    files: Mapping[str, bytes | str | os.PathLike[str]] | None = None,
    executables: Iterable[str] = (),
    copy_out: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    **_ignored: Any,  # binds, seccomp...: nothing to apply them to
) -> sandbox.Result:
    executable = set(executables)
    with tempfile.TemporaryDirectory(prefix="null-sandbox-") as tmp:
        for name, content in (files or {}).items():
            path = Path(tmp, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                shutil.copyfile(content, path)
            if name in executable:
                path.chmod(0o755)
        cpu_before = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=tmp, env={**_ENV, **(env or {})},
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)  # fmt: skip
        out, err = proc.communicate(stdin or b"")
        wall = time.perf_counter() - start
        code = proc.returncode
        kept = {n: Path(tmp, n).read_bytes() for n in copy_out if Path(tmp, n).is_file()}
    return sandbox.Result(
        sandbox.Verdict.OK if code == 0 else sandbox.Verdict.RUNTIME_ERROR,
        exit_code=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        cpu_time=_children_cpu() - cpu_before,
        wall_time=wall,
        stdout=out,
        stderr=err,
        files=kept,
    )
