#!/usr/bin/env bash
# Run the sandbox's cgroup tests on a real, pure cgroup v2 kernel.
#
# usage: .ci/v2-tests.sh [TEST_PATH...]
#
# Runs tests/sandbox/test_limits_matrix.py, test_cgroups.py, test_pool.py, the reuse tests
# (cgroups, network namespaces), spawn's and the socket allowlist's (the guest's kernel has
# loadable modules), plus any test path given as an argument, in one throw-away guest booted by run-in-v2-vm.sh (the newest
# stock Debian kernel in /boot on pure cgroup v2, QEMU; see ../shared/tools/v2vm/README.md),
# then the cgroup tests in a second guest on the oldest kernel there, if it is another one.
# On a host that is itself pure cgroup v2 the same tests run natively instead (V2_TESTS_VM=1
# forces the guest).
#
# Exit status: pytest's (0 all passed), or non-zero when the guest failed (124 timeout, 125
# the guest broke). Exit 0 with a "SKIP:" line only when the VM tooling itself is missing.
#
# Knobs: V2VM_RUN (path of run-in-v2-vm.sh), PYTHON (interpreter with pytest and pyseccomp),
# V2VM_CGROUP (default ci/job: the session runs in a leaf cgroup with processes; the layout
# test covers the root cgroup), V2VM_TIMEOUT (default 900 s), SANDBOX_TEST_TIME_SCALE and
# SANDBOX_TEST_OVERSHOOT (see below). Other V2VM_* variables pass through to run-in-v2-vm.sh.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
say() { echo "v2-tests: $*" >&2; }
skip() { echo "v2-tests: SKIP: $*"; exit 0; }

tests=(tests/sandbox/test_limits_matrix.py tests/sandbox/test_cgroups.py tests/sandbox/test_pool.py
       tests/sandbox/test_cgroup_reuse.py tests/sandbox/test_process.py
       tests/sandbox/hostile/test_net_reuse.py tests/sandbox/hostile/test_socket_families.py
       tests/sandbox/hostile/test_exec_confinement.py)
for arg in "$@"; do
    [ -e "$arg" ] || { say "no such test path: $arg"; exit 2; }
    tests+=("$arg")
done

# The real interpreter, not a pyenv shim (a bash script that forks several times per call,
# painful under emulation). It lives on the host's root, which the guest sees read-only.
if [ -z "${PYTHON:-}" ]; then
    PYTHON=$(python3 -c 'import sys; print(sys.executable)')
fi
"$PYTHON" -c 'import pytest, sandbox' 2>/dev/null \
    || { say "$PYTHON cannot import pytest and sandbox (run .ci/setup, pip install -e .[dev])"; exit 2; }

# Plugin autoload is off: the host's pytest plugins (hypothesis, schemathesis, anyio, benchmark)
# cost ~3 s to import here, which is about a minute in the emulated guest. pytest-timeout is
# kept (pyproject sets a per-test timeout); name more in PYTEST_PLUGINS (comma-separated
# modules, e.g. anyio.pytest_plugin) if a test path given as an argument needs them.
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
plugins=()
"$PYTHON" -c 'import pytest_timeout' 2>/dev/null && plugins=(-p pytest_timeout)
pytest_cmd=("$PYTHON" -m pytest -q -p no:cacheprovider "${plugins[@]}" "${tests[@]}")

# A pure v2 host: nothing to emulate.
if [ "${V2_TESTS_VM:-0}" != 1 ] && [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] \
        && grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    say "this host is pure cgroup v2: running natively"
    SANDBOX_CGROUP_VERSION=2 exec "${pytest_cmd[@]}"
fi

# --- the VM tooling (its absence is the only reason to skip) ------------------------------
vm=${V2VM_RUN:-}
if [ -z "$vm" ]; then
    for candidate in "$repo/../shared/tools/v2vm/run-in-v2-vm.sh" /work/shared/tools/v2vm/run-in-v2-vm.sh; do
        if [ -x "$candidate" ]; then vm=$candidate; break; fi
    done
fi
[ -n "$vm" ] && [ -x "$vm" ] || skip "run-in-v2-vm.sh not found (set V2VM_RUN)"
case ${V2VM_BACKEND:-auto} in
uml)
    command -v linux.uml >/dev/null || skip "linux.uml missing (apt-get install user-mode-linux)"
    say "warning: the UML guest's root can write host files; the hostile tests must not run there"
    ;;
*)
    command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
    ls /lib/modules/*/kernel/fs/9p/9p.ko* >/dev/null 2>&1 \
        || skip "no kernel with 9p modules in /boot (apt-get install linux-image-amd64)"
    ;;
esac
[ -x /bin/busybox ] || skip "busybox missing (apt-get install busybox-static)"
command -v cpio >/dev/null || skip "cpio missing (apt-get install cpio)"

case $repo in
    *[[:space:],]*) say "the repository path must not contain whitespace or commas: $repo"; exit 2 ;;
esac
case $PYTHON in
    /tmp/*|/run/*) say "$PYTHON is under /tmp or /run, which the guest does not see; use another"
                   exit 2 ;;
esac

# --- what the guest needs ----------------------------------------------------------------
# WORKDIR is the repository (read-write in the guest, same path). The guest's /tmp and /run are
# fresh tmpfs and the rest of the host root is read-only there, so the helper is built here,
# on the host, into a cache inside WORKDIR (ignored by git); the state dir is the guest's own
# /run, fresh at every boot.
cache=$repo/.ci/.v2-cache
mkdir -p "$cache"
chmod 0700 "$cache"
[ -e "$cache/.gitignore" ] || printf '*\n' > "$cache/.gitignore"
export SANDBOX_CACHE_DIR=$cache/helper
export SANDBOX_STATE_DIR=/run/pysandbox-v2tests
helper=$("$PYTHON" -c 'from sandbox._native import helper_path; print(helper_path())') \
    || { say "building the native helper failed"; exit 2; }
say "helper $helper"

# Under QEMU TCG guest code runs 20-80x slower than here: a Python start-up alone is ~0.7 s
# of CPU. Runs that must NOT hit a time limit get limits multiplied by TIME_SCALE. The CPU and
# wall limits that ARE tested stay exactly 1 s; only how far past them the kill may land is
# relaxed (the supervisor's wake-up, its kill and the helper's SIGKILL relay all run emulated).
# On real hardware (KVM) the contract's 50 ms applies unchanged.
if [ "${V2VM_BACKEND:-auto}" = kvm ] || { [ "${V2VM_BACKEND:-auto}" = auto ] \
        && [ -w /dev/kvm ] && grep -qw -e vmx -e svm /proc/cpuinfo; }; then
    export SANDBOX_TEST_TIME_SCALE=${SANDBOX_TEST_TIME_SCALE:-3}
    export SANDBOX_TEST_OVERSHOOT=${SANDBOX_TEST_OVERSHOOT:-0.05}
else
    export SANDBOX_TEST_TIME_SCALE=${SANDBOX_TEST_TIME_SCALE:-20}
    export SANDBOX_TEST_OVERSHOOT=${SANDBOX_TEST_OVERSHOOT:-0.25}
fi
export SANDBOX_CGROUP_VERSION=2    # fail loudly if the guest somehow is not on v2
export SANDBOX_TEST_V2_GUEST=1     # a throw-away machine: the layout test may move processes
export V2VM_ENV="${V2VM_ENV:-} SANDBOX_CACHE_DIR SANDBOX_STATE_DIR SANDBOX_CGROUP_VERSION
    SANDBOX_TEST_TIME_SCALE SANDBOX_TEST_OVERSHOOT SANDBOX_TEST_V2_GUEST
    PYTEST_DISABLE_PLUGIN_AUTOLOAD ${PYTEST_PLUGINS:+PYTEST_PLUGINS}"
V2VM_ENV=$(echo $V2VM_ENV)  # one line, single spaces
export V2VM_CGROUP=${V2VM_CGROUP-ci/job}
export V2VM_TIMEOUT=${V2VM_TIMEOUT:-900}

# The kernels the guest can boot (those with 9p modules), newest first. The suite runs on the
# newest; when an older one is there too (Debian 12's 6.1 beside backports' 6.12), the cgroup
# tests run again on the oldest: a kernel that cannot reset memory.peak must get fresh cgroups.
kernels=()
for k in $(ls /boot 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V -r); do
    ls /lib/modules/"$k"/kernel/fs/9p/9p.ko* >/dev/null 2>&1 && kernels+=("$k")
done
newest=${V2VM_KVER:-${kernels[0]:-}}
oldest=${kernels[${#kernels[@]}-1]:-}
fallback_tests=()
for t in tests/sandbox/test_cgroups.py tests/sandbox/test_cgroup_reuse.py; do
    [ -e "$t" ] && fallback_tests+=("$t")
done

boot() {  # KERNEL PYTEST-ARGS...: one guest; returns pytest's status
    local kver=$1; shift
    say "booting a cgroup v2 guest (kernel ${kver:-default}; $vm; cgroup ${V2VM_CGROUP:-/};" \
        "time scale $SANDBOX_TEST_TIME_SCALE, overshoot ${SANDBOX_TEST_OVERSHOOT}s): $*"
    local start rc elapsed
    start=$(date +%s)
    set +e
    V2VM_KVER=$kver "$vm" "$repo" -- "${pytest_cmd[@]}" "$@"
    rc=$?
    set -e
    elapsed=$(( $(date +%s) - start ))
    case $rc in
        0) say "passed in the v2 guest, kernel ${kver:-default} (${elapsed}s)" ;;
        124) say "the v2 guest timed out after ${V2VM_TIMEOUT}s" ;;
        125) say "the v2 guest itself failed (see the console lines above)" ;;
        *) say "FAILED in the v2 guest, kernel ${kver:-default}: pytest exit status $rc (${elapsed}s)" ;;
    esac
    return "$rc"
}

pytest_cmd=("$PYTHON" -m pytest -q -p no:cacheprovider "${plugins[@]}")
rc=0
boot "$newest" "${tests[@]}" || rc=$?
if [ "$rc" = 0 ] && [ -z "${V2VM_KVER:-}" ] && [ -n "$oldest" ] && [ "$oldest" != "$newest" ] \
        && [ "${#fallback_tests[@]}" -gt 0 ]; then
    boot "$oldest" "${fallback_tests[@]}" || rc=$?
fi
exit "$rc"
