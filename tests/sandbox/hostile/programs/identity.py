"""Who the box thinks it is: uid/gid maps, setgroups, capabilities, no_new_privs, seccomp
mode, hostname, session, controlling terminal, cgroup view. Printed as JSON for the test."""

import json
import os
import socket

info = {}
for name in ("uid_map", "gid_map", "setgroups", "cgroup"):
    with open(f"/proc/self/{name}") as handle:
        info[name] = handle.read()
with open("/proc/self/status") as handle:
    for line in handle:
        key, _, value = line.partition(":")
        if key in ("Uid", "Gid", "CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb", "NoNewPrivs",
                   "Seccomp", "Groups"):
            info[key] = " ".join(value.split())
info["hostname"] = socket.gethostname()
info["pid"] = os.getpid()
info["sid"] = os.getsid(0)
try:
    os.open("/dev/tty", os.O_RDWR)
    info["tty"] = "opened"
except OSError as exc:
    info["tty"] = exc.strerror
info["ids"] = [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()]
print(json.dumps(info))
