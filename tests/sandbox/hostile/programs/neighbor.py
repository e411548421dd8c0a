"""Two boxes at once, one spying on the other. "resident" sets up shop (an abstract unix
socket, files in /tmp and /dev/shm, a System V segment, a process named "resident") and
stays for a while; "spy", started meanwhile in another box, looks for any of it and tries
to signal every pid it can name. Concurrent boxes share nothing: the spy must find nothing
and the resident must finish undisturbed."""

import ctypes
import os
import signal
import socket
import sys

KEY = 0x6E656967
libc = ctypes.CDLL(None, use_errno=True)

if sys.argv[1] == "resident":
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind("\0hostile-neighbor")
    sock.listen()
    for path in ("/tmp/neighbor", "/dev/shm/neighbor", "/box/neighbor"):
        with open(path, "w") as handle:
            handle.write("resident data\n")
    print("shmget", libc.shmget(KEY, 4096, 0o1666) >= 0)
    sock.settimeout(float(sys.argv[2]))
    try:
        sock.accept()
        print("ESCAPED the spy connected")
    except TimeoutError:
        pass
    print("resident undisturbed")
else:
    found = []
    for path in ("/tmp/neighbor", "/dev/shm/neighbor", "/box/neighbor"):
        if os.path.exists(path):
            found.append(path)
    if libc.shmget(KEY, 0, 0) >= 0:
        found.append("sysv segment")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect("\0hostile-neighbor")
        found.append("abstract socket")
    except OSError:
        pass
    for pid in range(1, 4096):
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, signal.SIGKILL if pid > 1 else 0)
            if pid != 1:
                found.append(f"signalled pid {pid}")
        except OSError:
            pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if b"resident" in handle.read():
                    found.append(f"saw the resident as pid {pid}")
        except OSError:
            pass
    print("found:", ",".join(found))
