"""The worker container's entry point on pure cgroup v2, without Docker.

A throw-away guest (../shared/tools/v2vm, a stock kernel on pure cgroup v2) plays the part of
a Docker host: the "container" gets a cgroup of its own, a private cgroup namespace rooted
there, and /sys/fs/cgroup mounted read-only, which is what Docker gives a non-privileged
container. docker/worker-entrypoint.sh must make that usable: afterwards the sandbox runs a
box with a memory limit, the OOM killer ends a hog inside the container's cgroup, and the
controllers are delegated below the container's root, not above it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "docker" / "worker-entrypoint.sh"

GUEST = r"""#!/bin/sh
set -eu
mkdir /sys/fs/cgroup/container
echo $$ > /sys/fs/cgroup/container/cgroup.procs
exec unshare --cgroup --mount --propagation private sh -c '
  umount -l /sys/fs/cgroup
  mount -t cgroup2 -o ro,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
  exec "$0" "$1" "$2"' "$ENTRYPOINT" "$PYTHON" "$WORKDIR/check.py"
"""
CHECK = r"""
import os, sandbox
ok = sandbox.run(["/bin/true"], {"memory": "64M"})
hog = sandbox.run(["/usr/bin/python3", "-c", "b = bytearray(300 << 20); b[::4096] = bytes(len(b[::4096]))"],
                  {"memory": "64M", "cpu_time": 60, "wall_time": 120})
print("ok", ok.verdict.value, ok.memory_peak > 0)
print("hog", hog.verdict.value, hog.oom_killed)
print("own", open("/proc/self/cgroup").read().strip())
print("boxes-parent", "pysandbox" in os.listdir("/sys/fs/cgroup"))
print("delegated", open("/sys/fs/cgroup/cgroup.subtree_control").read().strip())
print("mount", *[l.split()[3].split(",")[0] for l in open("/proc/self/mounts") if l.split()[1] == "/sys/fs/cgroup"])
"""


def _vm() -> Path:
    for candidate in (REPO.parent / "shared/tools/v2vm/run-in-v2-vm.sh",
                      Path("/work/shared/tools/v2vm/run-in-v2-vm.sh")):  # fmt: skip
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("run-in-v2-vm.sh not found")


def test_entrypoint_delegates_the_container_cgroup_to_boxes(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the guest needs root")
    vm = _vm()
    for tool in ("qemu-system-x86_64", "cpio", "busybox"):
        if shutil.which(tool) is None and not Path(f"/bin/{tool}").exists():
            pytest.skip(f"{tool} is missing (see .ci/run)")
    (tmp_path / "guest.sh").write_text(GUEST)
    (tmp_path / "guest.sh").chmod(0o755)
    (tmp_path / "check.py").write_text(CHECK)
    env = {**os.environ, "ENTRYPOINT": str(ENTRYPOINT), "PYTHON": sys.executable,
           "WORKDIR": str(tmp_path), "PYTHONPATH": str(REPO), "V2VM_TIMEOUT": "300",
           "V2VM_ENV": "ENTRYPOINT PYTHON WORKDIR PYTHONPATH"}  # fmt: skip
    env.pop("V2VM_CGROUP", None)
    r = subprocess.run([str(vm), str(tmp_path), "--", str(tmp_path / "guest.sh")], env=env,
                       capture_output=True, text=True, timeout=400)  # fmt: skip
    if r.returncode == 125:
        pytest.skip(f"the v2 guest could not boot here: {r.stderr.strip()[-500:]}")
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert r.returncode == 0, (r.stdout, r.stderr[-3000:])
    assert lines["ok"] == "OK True", r.stdout
    assert lines["hog"] == "MLE True", r.stdout  # the OOM killer, inside the container's cgroup
    assert lines["own"] == "0::/judge-worker", r.stdout  # moved into the leaf
    assert lines["boxes-parent"] == "True", r.stdout  # beside it, below the container's root
    assert {"memory", "pids", "cpu"} <= set(lines["delegated"].split()), r.stdout
    assert lines["mount"] == "rw", r.stdout  # made writable, for this container's view only
