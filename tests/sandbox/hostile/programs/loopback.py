"""Reach the host over the network: the test runner listens on 127.0.0.1 and ::1 (argv[1],
a port) and on an abstract unix socket (argv[2]). The box's network namespace has at most its
own loopback: every connection must fail, and a UDP datagram must go nowhere."""

import socket
import sys

port, abstract = int(sys.argv[1]), sys.argv[2]
for family, address in ((socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET6, ("::1", port)),
                        (socket.AF_INET, ("10.0.2.2", port)), (socket.AF_INET, ("8.8.8.8", 53))):
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(1)
    try:
        sock.connect(address)
        sock.sendall(b"ESCAPED from the box\n")
        print(f"ESCAPED connected to {address}")
    except OSError as exc:
        print(f"{address}: {exc.strerror or exc}")
    finally:
        sock.close()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    udp.sendto(b"ESCAPED udp", ("127.0.0.1", port))
    print("udp sent (nobody listening in the box)")
except OSError as exc:
    print("udp:", exc.strerror)
unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    unix.connect("\0" + abstract)
    print("ESCAPED connected to the host's abstract socket")
except OSError as exc:
    print("abstract:", exc.strerror)
try:
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    print("ESCAPED raw packet socket")
except OSError as exc:
    print("raw:", exc.strerror)
with open("/proc/net/dev") as handle:
    print("interfaces", [line.split(":")[0].strip() for line in handle.readlines()[2:]])
