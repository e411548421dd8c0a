"""Leave something for the next run (a later submission, maybe another user's): files in
/box, /tmp and /dev/shm, a System V shared memory segment and message queue, and an abstract
unix socket held by a daemon. "plant" leaves them; "look" reports any it finds. Every box
starts empty: "look" must find nothing."""

import os
import socket
import sys
import time

PATHS = ("/box/left", "/tmp/left", "/dev/shm/left")
SHM_KEY = 0x6C656674

if sys.argv[1] == "plant":
    for path in PATHS:
        with open(path, "w") as handle:
            handle.write("left behind\n")
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    print("shmget", libc.shmget(SHM_KEY, 4096, 0o1666))
    print("msgget", libc.msgget(SHM_KEY, 0o1666))
    if os.fork() == 0:
        os.setsid()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind("\0hostile-left")
        sock.listen()
        time.sleep(60)
        os._exit(0)
    time.sleep(0.1)
    print("planted")
else:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    found = [p for p in PATHS if os.path.exists(p)]
    found += [f"tmp:{n}" for n in os.listdir("/tmp")] + [f"shm:{n}" for n in os.listdir("/dev/shm")]
    found += [f"box:{n}" for n in os.listdir("/box") if n != "prog.py"]
    if libc.shmget(SHM_KEY, 0, 0) >= 0:
        found.append("sysv shm segment")
    if libc.msgget(SHM_KEY, 0) >= 0:
        found.append("sysv message queue")
    with open("/proc/sysvipc/shm") as handle:
        found += [f"shm:{line.split()[0]}" for line in handle.readlines()[1:]]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect("\0hostile-left")
        found.append("abstract socket")
    except OSError:
        pass
    print("found:", ",".join(found))
