#!/bin/sh
# Entry point of the worker container: make the container's cgroups usable by the sandbox, then
# exec the command (`judge worker ...`). See README, "cgroup v2 delegation".
#
# 1. Docker mounts the container's cgroup file system read-only. The worker has CAP_SYS_ADMIN
#    (it needs it for namespaces anyway), so it makes its own view writable: a per-mount flag
#    (remount,bind), nothing changes for the host or other containers.
# 2. cgroup v2 forbids "internal processes": a cgroup that holds processes cannot hand
#    controllers to children. In a private cgroup namespace the container's processes sit in
#    the namespace's root, so move them into a leaf, `judge-worker`. The sandbox then puts its
#    parent cgroup beside that leaf and enables memory, pids and cpu for its boxes.
# Skipped when SANDBOX_CGROUP_ROOT names a cgroup delegated some other way.
set -eu
cg=/sys/fs/cgroup

if [ -z "${SANDBOX_CGROUP_ROOT:-}" ]; then
    # Every read-only cgroup mount of this container: one for v2, one per hierarchy for v1.
    awk '($3 == "cgroup" || $3 == "cgroup2") && $4 ~ /(^|,)ro(,|$)/ { print $2 }' /proc/self/mounts |
    while read -r mnt; do
        mount -o remount,bind,rw "$mnt" || {
            echo "worker: cannot make $mnt writable (needs CAP_SYS_ADMIN, and AppArmor must allow mount)" >&2
            exit 2
        }
    done
    if [ -f "$cg/cgroup.controllers" ] && [ "$(cat /proc/self/cgroup)" = "0::/" ]; then
        mkdir -p "$cg/judge-worker"
        # Move every process, this shell included; repeat for any that forked meanwhile.
        for _ in 1 2 3; do
            while read -r pid; do
                echo "$pid" > "$cg/judge-worker/cgroup.procs" 2>/dev/null || true
            done < "$cg/cgroup.procs"
            [ -n "$(cat "$cg/cgroup.procs")" ] || break
        done
    fi
fi
exec "$@"
