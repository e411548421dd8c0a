"""A crash in the box must never reach the host's core dump handler.

Hosts with a pipe core_pattern (Ubuntu's apport, Fedora's and Arch's systemd-coredump) run
the handler as host root for every crashing process, whatever its namespaces, and the
kernel ignores RLIMIT_CORE 0 for pipes. This host's core_pattern is a plain file name, and
changing it would change every engineer's machine, so the attack runs in a throw-away guest
(the pure cgroup v2 VM of ../shared/tools/v2vm) whose core_pattern pipes to a recorder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_support import Hostile

REPO = Path(__file__).resolve().parents[3]
VM_CANDIDATES = (os.environ.get("V2VM_RUN", ""), str(REPO.parent / "shared/tools/v2vm/run-in-v2-vm.sh"),
                 "/work/shared/tools/v2vm/run-in-v2-vm.sh")

RECORDER = """#!/bin/sh
# The host's "core dump handler": note who crashed (host uid, pid), discard the core.
echo "$1 $2" >> "$(dirname "$0")/cores.log"
cat > /dev/null
"""

GUEST = """
import json, os, resource, subprocess, sys, time
workdir = sys.argv[1]
log = os.path.join(workdir, "cores.log")
with open("/proc/sys/kernel/core_pattern", "w") as handle:
    handle.write(f"|{workdir}/recorder.sh %u %p")

def entries():
    if not os.path.exists(log):
        return []
    with open(log) as handle:
        return [line.split() for line in handle]

def settle(count, seconds):
    deadline = time.monotonic() + seconds
    while len(entries()) < count and time.monotonic() < deadline:
        time.sleep(0.05)

# Control: an ordinary process with RLIMIT_CORE 0 still reaches the handler.
subprocess.run([f"{workdir}/crash_core", "plain"],
               preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
settle(1, 20)
control = entries()
import sandbox
with open(f"{workdir}/crash_core", "rb") as handle:
    binary = handle.read()
result = sandbox.run(["./prog"], {"cpu_time": 20, "wall_time": 60}, files={"prog": binary},
                     executables=["prog"])
settle(len(control) + 2, 5)
print("RESULT " + json.dumps({"control": control, "all": entries(),
                              "verdict": result.verdict.value, "signal": result.signal,
                              "message": result.message, "stdout": result.stdout.decode()}))
"""


def vm_tool() -> str:
    for candidate in VM_CANDIDATES:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("no throw-away guest: run-in-v2-vm.sh not found (set V2VM_RUN)")
    raise AssertionError  # unreachable


def test_box_crash_never_runs_the_host_core_handler(hostile: Hostile, tmp_path: Path) -> None:
    tool = vm_tool()
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("no throw-away guest: qemu-system-x86_64 missing")
    workdir = tmp_path
    shutil.copy(hostile.binary_path("crash_core"), workdir / "crash_core")
    (workdir / "recorder.sh").write_text(RECORDER)
    (workdir / "recorder.sh").chmod(0o755)
    (workdir / "guest.py").write_text(GUEST)
    env = {**os.environ, "PYTHONPATH": str(REPO), "V2VM_ENV": "PYTHONPATH",
           "V2VM_TIMEOUT": "240"}
    proc = subprocess.run([tool, str(workdir), "--", sys.executable, "guest.py", str(workdir)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    report = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert report, f"guest failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(report[-1].removeprefix("RESULT "))
    # The guest's handler works, and ignores RLIMIT_CORE 0: the attack has a target.
    assert [uid for uid, _pid in data["control"]] == ["0"], (data, proc.stderr[-3000:])
    assert data["verdict"] == "RE" and data["signal"] == 11, data
    box_dumps = [entry for entry in data["all"] if entry[0] != "0"]
    assert box_dumps == [], f"the host's core handler ran for the box: {box_dumps}; {data}"
