"""Write where the host would notice: kernel tunables in /proc/sys, /sys, the system
directories, the box's /etc, the hostname. Everything outside /box, /tmp and /dev/shm is
read-only or absent: every attempt must fail."""

import socket

ATTEMPTS = {
    "/proc/sys/kernel/hostname": "pwned\n",
    "/proc/sys/vm/drop_caches": "3\n",
    "/proc/sys/kernel/core_pattern": "|/box/evil\n",
    "/proc/sysrq-trigger": "h",
    "/sys/kernel/uevent_helper": "/box/evil\n",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes": "-1\n",
    "/usr/bin/hostile-planted": "x",
    "/usr/bin/python3": "x",
    "/lib/hostile-planted": "x",
    "/etc/passwd": "evil::0:0::/:/bin/sh\n",
    "/etc/hostile-planted": "x",
    "/hostile-planted": "x",
    "/proc/self/uid_map": "0 0 1\n",
}
for path, data in ATTEMPTS.items():
    try:
        with open(path, "a") as handle:
            handle.write(data)
        print(f"ESCAPED wrote {path}")
    except OSError as exc:
        print(f"{path}: {exc.strerror}")
try:
    socket.sethostname("pwned")
    print("ESCAPED sethostname")
except OSError as exc:
    print("sethostname:", exc.strerror)
print("hostname", socket.gethostname())
