"""Other processes' environments: every /proc/PID/environ and cmdline the box can see. The
host's processes (the test runner holds a secret in its environment) must be invisible, and
the box's init must not be readable either (it is host root)."""

import os
import sys

secret = sys.argv[1].encode()
# Our own cmdline holds the secret as an argument: look at every process but us.
for pid in sorted(p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
    for name in ("environ", "cmdline"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as handle:
                data = handle.read()
        except OSError as exc:
            print(f"{pid}/{name}: {exc.strerror}")
            continue
        if secret in data:
            print(f"ESCAPED secret in /proc/{pid}/{name}")
        print(f"{pid}/{name}: {len(data)} bytes")
print("done")
