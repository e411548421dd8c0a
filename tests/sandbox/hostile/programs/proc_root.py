"""Reach the host through /proc links: /proc/1/root and /proc/1/cwd (init's view), /proc/
self/root, init's mem, maps and fds, and /etc/shadow directly. Nothing of the host may be
readable: /etc/shadow is not in the box at all, and init's links are closed to the box."""

import os

PATHS = ("/etc/shadow", "/etc/gshadow", "/proc/1/root/etc/shadow", "/proc/self/root/etc/shadow",
         "/proc/1/root/etc/passwd", "/proc/1/cwd/etc/shadow", "/proc/1/mem", "/proc/1/maps",
         "/proc/1/environ", "/proc/1/fd/4", "/root/.bash_history", "/root/.ssh/id_rsa",
         "/home", "/var/log/syslog", "/run/pysandbox/slots/0")
for path in PATHS:
    try:
        if os.path.isdir(path):
            print(f"{path}: dir {os.listdir(path)}")
            continue
        with open(path, "rb") as handle:
            data = handle.read(4096)
        print(f"{path}: {len(data)} bytes")
        if data and path != "/proc/1/root/etc/passwd":
            print(f"ESCAPED read {path}")
    except OSError as exc:
        print(f"{path}: {exc.strerror}")
try:
    print("init root:", os.readlink("/proc/1/root"))
    print("ESCAPED readlink /proc/1/root")
except OSError as exc:
    print("readlink /proc/1/root:", exc.strerror)
