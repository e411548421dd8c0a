"""Kernel secrets through /proc: kcore (physical memory as an ELF core), kallsyms (kernel
addresses for exploits), keys, timer_list and sched_debug (host-wide process info), and
/proc/sys/kernel values. The box's /proc masks them: each read must fail or be empty."""

import os

for path in ("/proc/kcore", "/proc/kallsyms", "/proc/keys", "/proc/timer_list",
             "/proc/sched_debug", "/proc/kpageflags", "/proc/vmallocinfo"):
    try:
        with open(path, "rb") as handle:
            data = handle.read(4096)
    except OSError as exc:
        print(f"{path}: {exc.strerror}")
        continue
    print(f"{path}: {len(data)} bytes")
    if data:
        print(f"ESCAPED {path} readable")
print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
