"""Non-regular files for the host's copy-out: a FIFO (a blocking open would hang the host
forever), a unix socket, a directory, and a device node if one can be made (it must not: no
CAP_MKNOD on the host). Copy-out must refuse each promptly."""

import os
import socket

os.mkfifo("/box/fifo")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind("/box/sock")
os.mkdir("/box/dir")
try:
    os.mknod("/box/dev", 0o666 | 0o020000, os.makedev(1, 3))
    print("ESCAPED made a device node")
except OSError as exc:
    print("mknod:", exc.strerror)
print("planted")
