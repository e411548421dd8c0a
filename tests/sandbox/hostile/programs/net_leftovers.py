"""Leave something in the box's network namespace for the next run to find, or look for
what an earlier run left (issue 19: a namespace may serve one box after another).

argv[1] is the step, argv[2:] its arguments. Every step first prints "cookie N", the
namespace's SO_NETNS_COOKIE (unique for the kernel's uptime, unlike the nsfs inode, which a
new namespace may take over), so the test knows whether two runs shared one.
"""

import array
import fcntl
import os
import socket
import struct
import sys
import time

SO_NETNS_COOKIE = 71
COUNTERS = ("dev", "snmp", "snmp6", "netstat", "sockstat", "sockstat6", "unix")


def cookie() -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        return struct.unpack("Q", probe.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0]


def attempt(label: str, action) -> None:
    """An action that needs a capability the box must not have over its namespace."""
    try:
        action()
        print(f"ESCAPED {label} succeeded")
    except OSError as exc:
        print(f"{label}: {exc.strerror or exc}")


def listen(port: int) -> None:
    """A listener on a fixed port, a connection attempt to it (TIME_WAIT needs one), and
    the socket left open at exit."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("0.0.0.0", port))
    server.listen(8)
    six = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    six.bind(("::", port + 1))
    six.listen(8)
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        client = socket.socket(family, socket.SOCK_STREAM)
        client.settimeout(0.5)
        try:
            client.connect((host, port))
            print("connected", flush=True)  # a TIME_WAIT is possible from here on
            client.close()
        except OSError as exc:
            print("connect:", exc.strerror, flush=True)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))
    print("listening", flush=True)
    os._exit(0)  # (the sockets are not closed by us: the kernel does it at exit)


def quiet_listen(port: int) -> None:
    """A listener closed by exit, with no packet tried: nothing to count."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("0.0.0.0", port))
    server.listen(8)
    print("listening")


def bind(port: int) -> None:
    """What a run after `listen` must be able to do: the same ports, no SO_REUSEADDR."""
    for family, host, number, kind in ((socket.AF_INET, "0.0.0.0", port, socket.SOCK_STREAM),
                                       (socket.AF_INET6, "::", port + 1, socket.SOCK_STREAM),
                                       (socket.AF_INET, "0.0.0.0", port, socket.SOCK_DGRAM)):
        sock = socket.socket(family, kind)
        try:
            sock.bind((host, number))
            if kind == socket.SOCK_STREAM:
                sock.listen(1)
            print("bound", number, kind)
        except OSError as exc:
            print(f"ESCAPED bind {number}: {exc.strerror} (left over from an earlier run)")
        finally:
            sock.close()


def abstract(name: str) -> None:
    """An abstract unix listener, kept alive past exit by an fd cycle in flight (the unix
    garbage collector frees it only later)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen(8)
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fds = array.array("i", [server.fileno(), left.fileno(), right.fileno()])
    left.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    right.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    print("bound abstract")


def find_abstract(name: str) -> None:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect("\0" + name)
        print("ESCAPED connected to an earlier run's abstract socket")
    except OSError as exc:
        print("abstract:", exc.strerror)
    with open("/proc/net/unix") as handle:
        if name in handle.read():
            print("ESCAPED an earlier run's abstract name is listed")
    taker = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        taker.bind("\0" + name)
        print("abstract name free")
    except OSError as exc:
        print(f"ESCAPED abstract name taken: {exc.strerror}")


def encode(bits: str) -> None:
    """Count a secret into the namespace's counters: one failed send per 1 bit, through
    UDP, TCP, raw-less ICMP (ping sockets) and IPv6."""
    for bit in bits:
        if bit != "1":
            continue
        for family, host in ((socket.AF_INET, "10.9.8.7"), (socket.AF_INET6, "2001:db8::1")):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                sock = socket.socket(family, kind)
                try:
                    if kind == socket.SOCK_DGRAM:
                        sock.sendto(b"secret", (host, 9))
                    else:
                        sock.settimeout(0.2)
                        sock.connect((host, 9))
                except OSError:
                    pass
                finally:
                    sock.close()
    print("encoded")


def join(count: int) -> None:
    """Join multicast groups and exit: leaving them (at exit) is what queues late reports
    under MLDv2, after the box is gone."""
    six = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    four = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for number in range(count):
        group = socket.inet_pton(socket.AF_INET6, f"ff05::1:{number + 1:x}")
        six.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group + struct.pack("i", 1))
        four.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack(
            "4s4si", socket.inet_aton(f"239.1.2.{number + 1}"), bytes(4), 1))
    print("joined", flush=True)
    os._exit(0)


def watch(seconds: float) -> None:
    """Whether the counters move while this run does nothing (an earlier run's late work)."""
    def read() -> str:
        return "".join(open(f"/proc/net/{name}").read()
                       for name in ("dev", "snmp", "snmp6", "netstat", "dev_snmp6/lo"))
    first = read()
    time.sleep(seconds)
    print("counters moved" if read() != first else "counters still")


def counters() -> None:
    """What the namespace's counters and socket lists read (the sockets' inode numbers and
    kernel addresses differ between namespaces; what a run could leave does not)."""
    for name in COUNTERS:
        with open(f"/proc/net/{name}") as handle:
            text = handle.read()
        if name == "unix":
            text = str(len(text.splitlines()))
        elif name.startswith("sockstat"):
            words = text.split()
            text = " ".join("-" if i and words[i - 1] in ("orphan", "alloc", "mem") else w
                            for i, w in enumerate(words))
        print(f"== {name}\n{text}")


def admin() -> None:
    """What needs CAP_NET_ADMIN over the namespace, which the box must not have: sysctls,
    bringing lo up, routes, addresses, netfilter."""
    for path in ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/ip_local_port_range",
                 "/proc/sys/net/core/somaxconn"):
        def write(path: str = path) -> None:
            with open(path, "w") as handle:
                handle.write("1\n")
        attempt(f"sysctl {path}", write)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flags = struct.unpack("16sH", fcntl.ioctl(sock, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
    print("lo up" if flags & 1 else "lo down")
    attempt("SIOCSIFFLAGS lo up",
            lambda: fcntl.ioctl(sock, 0x8914, struct.pack("16sH", b"lo", flags | 1)))
    route = bytearray(120)  # struct rtentry, x86_64: dst sockaddr at 8, flags at 56
    struct.pack_into("HH4s", route, 8, socket.AF_INET, 0, bytes(4))
    struct.pack_into("HH4s", route, 24, socket.AF_INET, 0, socket.inet_aton("10.0.0.1"))
    struct.pack_into("HH4s", route, 40, socket.AF_INET, 0, bytes(4))
    struct.pack_into("H", route, 56, 0x0001 | 0x0002)  # RTF_UP | RTF_GATEWAY
    attempt("SIOCADDRT", lambda: fcntl.ioctl(sock, 0x890B, bytes(route)))
    attempt("SIOCSIFADDR", lambda: fcntl.ioctl(sock, 0x8916, struct.pack(
        "16sHH4s8s", b"lo", socket.AF_INET, 0, socket.inet_aton("10.1.1.1"), bytes(8))))
    for name, msg_type, body in (
            ("RTM_NEWLINK up", 16, struct.pack("BxHiII", 0, 0, 1, 1, 1)),  # ifinfomsg lo
            ("RTM_NEWROUTE", 24, struct.pack("BBBBBBBBI", 2, 0, 0, 0, 254, 3, 0, 1, 0)),
            ("RTM_NEWADDR", 20, struct.pack("BBBBI", 2, 8, 0, 0, 1) +
             struct.pack("HH4s", 8, 2, socket.inet_aton("10.2.2.2")))):
        attempt(f"netlink {name}", lambda msg_type=msg_type, body=body: rtnetlink(msg_type,
                                                                                 body))
    # netfilter: nf_tables' NFT_MSG_NEWTABLE in a batch
    attempt("nftables new table", nftables)


def rtnetlink(msg_type: int, body: bytes) -> None:
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    header = struct.pack("IHHII", 16 + len(body), msg_type, 0x1 | 0x4 | 0x400 | 0x200, 1, 0)
    nl.send(header + body)  # NLM_F_REQUEST | ACK | CREATE | EXCL
    _check_ack(nl.recv(65536))


def _check_ack(reply: bytes) -> None:
    error = struct.unpack_from("i", reply, 16)[0]
    if error:
        raise OSError(-error, os.strerror(-error))


def nftables() -> None:
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    def message(kind: int, seq: int, payload: bytes) -> bytes:
        nfgen = struct.pack("BBH", 2, 0, socket.htons(10 if kind != 0x0A00 else 0))
        body = nfgen + payload
        return struct.pack("IHHII", 16 + len(body), kind, 0x1 | 0x4 | 0x400, seq, 0) + body
    name = b"box\0"
    attr = struct.pack("HH", 4 + len(name), 1) + name + bytes((-len(name)) % 4)
    batch = (message(0x10, 1, b"") + message((10 << 8) | 0, 2, attr) + message(0x11, 3, b""))
    nl.send(batch)
    nl.settimeout(1)
    for _ in range(3):
        reply = nl.recv(65536)
        if struct.unpack_from("H", reply, 4)[0] == 2:  # NLMSG_ERROR
            _check_ack(reply)


def main() -> None:
    step, args = sys.argv[1], sys.argv[2:]
    print("cookie", cookie(), flush=True)
    if step == "hold":
        time.sleep(float(args[0]))
        print("cookie", cookie())
        return
    {"listen": lambda: listen(int(args[0])), "quiet_listen": lambda: quiet_listen(int(args[0])),
     "bind": lambda: bind(int(args[0])), "abstract": lambda: abstract(args[0]),
     "find_abstract": lambda: find_abstract(args[0]), "encode": lambda: encode(args[0]),
     "counters": counters, "admin": admin, "cookie": lambda: None,
     "join": lambda: join(int(args[0])), "watch": lambda: watch(float(args[0]))}[step]()


main()
