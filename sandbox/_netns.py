"""Network namespaces that serve one box after another, each only if its run left it exactly
as it was made (issue 19).

A new namespace costs CPU to create (in the box's outer) and as much again to destroy (in
the kernel's cleanup_net workers), and the service is CPU-bound. A box's root has no capability over the namespace (it is owned by the
host's user namespace, and `lo` stays down), so a run can change little there: sockets, and
counters. Counters cannot be reset, and a program could encode a hidden test's data in them
(a count of failed sends is Ip OutNoRoutes) for a later run, whose output the user sees.
So a namespace goes back to the idle list only when, with no process of its box left, its
`FILES` read byte for byte what they read when it was new; any difference or error closes
it, and the next box gets a new one. Programs that never touch the network (nearly all)
leave it untouched.

What is compared, and why those: the per-namespace counters (dev, snmp, snmp6, netstat,
dev_snmp6/lo: every packet, failed send, or socket error of IPv4/IPv6/TCP/UDP/ICMP bumps
one); sockstat/sockstat6 with their machine-wide fields masked ("sockets: used" counts every
socket of the namespace, of any family, unix ones in flight and sockets not yet freed
included; "tw" its TIME_WAIT entries; "inuse" the bound and listening ones per protocol);
ip6_flowlabel (a shared flow label lingers after its socket is gone); and the namespace's
TCP Fast Open key (some kernels make it on a program's first TCP_FASTOPEN, and show it to
later sockets). Not read, as the socket count covers them: the socket lists (unix with its
abstract names, netlink, tcp/tcp6/udp, which also walk machine-wide hash tables, ~0.5 ms
each here), and multicast memberships (igmp, igmp6, dev_mcast: a socket's, gone with it, as
tests show). Not read either: routes, addresses, neighbours, xfrm, netfilter and sysctls,
which need CAP_NET_ADMIN over the namespace (tests show the box has none). The files are
opened inside the namespace when it is made and kept open (an open /proc/net or
/proc/sys/net file stays bound to the namespace it was opened in), so a check is a pread of
each, from any thread: ~0.05 ms of CPU here, where a new namespace costs its box's outer
~0.3 ms and kernel workers as much again to destroy.

One kind of late change is ruled out at the source: leaving an IPv6 multicast group (as a
socket does when its program exits) queues MLDv2 reports that kernel workers send, and
count, after the box is gone; our namespaces run MLDv1, which reports nothing over a `lo`
that is down.

Idle namespaces are held by fd (at most MAX_IDLE); a box's outer joins one with setns()
before cloning its init. SANDBOX_REUSE=0 (`_reuse.enabled`) gives every box its own, made
by its outer as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from . import _reuse
from ._ffi import c_long, function, get_errno, library

CLONE_NEWNET = 0x40000000
MAX_IDLE = 8
# Namespaces that keep their FILES open (a check then costs half: no lookup through a
# /proc/<tid>/net that changed namespace since); past this many, the check opens them each
# time, so that a busy pool never holds hundreds of fds.
MAX_HOLDING = 16
FILES = (*(f"/proc/thread-self/net/{name}" for name in (
    "dev", "snmp", "snmp6", "netstat", "dev_snmp6/lo", "sockstat", "sockstat6",
    "ip6_flowlabel")),
    # Zeros until the kernel makes the namespace's key; reading it makes none.
    "/proc/sys/net/ipv4/tcp_fastopen_key")
# Every entry of /proc/net we have reasoned about (above). A kernel with more (a protocol
# module such as sctp, with state of its own per namespace) gets no reuse: we cannot say
# what a run could leave there. One loaded later shows up in the namespaces already made
# (modules register their entries in every one), whose check then fails.
KNOWN = frozenset((
    "anycast6", "arp", "arp_tables_matches", "arp_tables_names", "arp_tables_targets",
    "connector", "dev", "dev_mcast", "dev_snmp6", "fib_trie", "fib_triestat", "icmp", "icmp6",
    "if_inet6", "igmp", "igmp6", "ip6_flowlabel", "ip6_tables_matches", "ip6_tables_names",
    "ip6_tables_targets", "ip6t_hashlimit", "ip_tables_matches", "ip_tables_names",
    "ip_tables_targets", "ipconfig", "ipt_hashlimit", "ipv6_route", "mcfilter", "mcfilter6",
    "netfilter", "netlink", "netstat", "nf_conntrack", "nf_conntrack_expect", "packet", "pnp",
    "protocols", "psched", "ptype", "raw", "raw6", "route", "rt6_stats", "rt_acct", "rt_cache",
    "snmp", "snmp6", "sockstat", "sockstat6", "softnet_stat", "stat", "tcp", "tcp6", "udp",
    "udp6", "udplite", "udplite6", "unix", "xfrm_stat", "xt_recent",
    # Multicast routing (CONFIG_IP_MROUTE): MRT_INIT needs a raw socket and CAP_NET_ADMIN.
    "ip_mr_cache", "ip_mr_vif", "ip6_mr_cache", "ip6_mr_vif",
    # Wireless extensions (Debian's kernels): statistics of wireless devices, and only `lo`
    # is ours (making or moving in a device needs CAP_NET_ADMIN).
    "wireless"))
# sockstat fields counted over the whole machine, not per namespace: they change whatever
# the run did, and say nothing about this namespace.
_GLOBAL_FIELDS = {b"orphan", b"alloc", b"mem"}

_libc = library(None)
_setns = function(_libc, "setns", c_long)
_unshare = function(_libc, "unshare", c_long)

_lock = threading.Lock()
_idle: list[Netns] = []
_lent: set[Netns] = set()  # in a box now (closed in a forked child, as the idle ones)
_owner = os.getpid()
_holding = 0  # namespaces with their files open
_unknown: list[str] = []  # entries of /proc/net not in KNOWN, once seen: no reuse
stats = {"made": 0, "reused": 0, "dirty": 0}  # (tests and the benchmark read these)


class Netns:
    """A network namespace held by an fd, with what its files read when it was new."""

    def __init__(self, fd: int, files: list[int]) -> None:
        self.fd = fd
        self.files = files  # FILES opened inside it (-1: absent), or [] to open each time
        self.fresh: tuple[bytes, ...] = ()
        self.owner = os.getpid()

    def close(self) -> None:
        global _holding
        if self.owner == os.getpid():
            for fd in (self.fd, *self.files):
                if fd >= 0:
                    os.close(fd)
            if self.files:
                with _lock:
                    _holding -= 1
        self.fd = -1
        self.files = []


def _call(func: object, *args: int) -> None:
    if func(*args) < 0:  # type: ignore[operator]
        err = get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def _inside(fd: int | None) -> Iterator[None]:
    """Run the block with this thread in namespace `fd` (a new one when None); the network
    namespace is per thread, so the rest of the process stays where it is."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if fd is None:
            _call(_unshare, CLONE_NEWNET)
        else:
            _call(_setns, fd, CLONE_NEWNET)
        try:
            yield
        finally:
            try:
                _call(_setns, home, CLONE_NEWNET)
            except OSError:
                # A thread stuck in a box's namespace would put the sockets it makes
                # later there; nothing can be trusted after that.
                os.abort()
    finally:
        os.close(home)


def _mask(raw: bytes) -> bytes:
    words = raw.split()
    return b" ".join([b"-" if before in _GLOBAL_FIELDS else word
                      for before, word in zip([b"", *words], words, strict=False)])


def _open_files() -> list[int]:
    """FILES of this thread's namespace, opened (call inside `_inside`): an open /proc/net
    file stays bound to the namespace it was opened in (not so a directory, which needs the
    thread that opened it alive)."""
    fds: list[int] = []
    try:
        for name in FILES:
            try:
                fds.append(os.open(name, os.O_RDONLY | os.O_CLOEXEC))
            except FileNotFoundError:
                fds.append(-1)  # (e.g. no IPv6): the same every time
    except BaseException:
        for fd in fds:
            if fd >= 0:
                os.close(fd)
        raise
    return fds


def _quiet_multicast() -> None:
    """MLDv1 for this thread's (new) namespace. Under MLDv2 a socket that leaves an IPv6
    group (as every one does when its program exits) queues reports for kernel workers to
    send, now and up to a second later, over `lo` down or not: they would bump counters
    after the check, in the next run's view. MLDv1 reports only on an interface that is up,
    and `lo` never is. (IGMP's late reports go nowhere and count nothing.)"""
    try:
        fd = os.open("/proc/sys/net/ipv6/conf/all/force_mld_version", os.O_WRONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # no IPv6
    try:
        os.write(fd, b"1")
    finally:
        os.close(fd)


def _snapshot(ns: Netns) -> tuple[bytes, ...]:
    """What `ns` shows: its files, whole (a read from offset 0 renders one anew, up to the
    size asked)."""
    if ns.files:
        fds = ns.files
    else:
        with _inside(ns.fd):
            fds = _open_files()
    try:
        found = [os.pread(fd, 1 << 16, 0) if fd >= 0 else b"(none)" for fd in fds]
        # Our own namespace's entries: a module adds its entries to every namespace.
        found.append(" ".join(sorted(os.listdir("/proc/thread-self/net"))).encode())
    finally:
        if fds is not ns.files:
            for fd in fds:
                if fd >= 0:
                    os.close(fd)
    return tuple(_mask(raw) if "sockstat" in name else raw
                 for name, raw in zip((*FILES, "listing"), found, strict=True))


def _make() -> Netns:
    global _holding
    with _lock:
        hold = _holding < MAX_HOLDING
        _holding += hold
    try:
        with _inside(None):
            raw = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            # Above 9: the outer's fds go by dup2 to 0-7, which must clobber no source.
            fd = fcntl.fcntl(raw, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(raw)
            try:
                _quiet_multicast()
                files = _open_files() if hold else []
            except BaseException:
                os.close(fd)
                raise
    except BaseException:
        with _lock:
            _holding -= hold
        raise
    ns = Netns(fd, files)
    try:
        ns.fresh = _snapshot(ns)
        unknown = set(ns.fresh[-1].decode().split()) - KNOWN
        if unknown:
            _unknown[:] = sorted(unknown)
            raise OSError(f"no reuse: /proc/net has {', '.join(_unknown)}")
    except BaseException:
        ns.close()
        raise
    with _lock:
        stats["made"] += 1
    return ns


def take() -> Netns | None:
    """A namespace for one box, none other's until `give_back`; None: the box makes its own
    (reuse off, or the host could not make one)."""
    if not _reuse.enabled() or _unknown:
        return None
    with _lock:
        if _idle and _owner == os.getpid():
            stats["reused"] += 1
            ns = _idle.pop()
            _lent.add(ns)
            return ns
    try:
        ns = _make()
    except OSError:
        return None
    with _lock:
        _lent.add(ns)
    return ns


def clean(ns: Netns) -> bool:
    """Whether `ns` reads as it did new. Only meaningful once no process is left in it."""
    try:
        return _snapshot(ns) == ns.fresh
    except OSError:
        return False


def give_back(ns: Netns, box_gone: bool) -> None:
    """After its box: keep `ns` for another if nothing of the run is left in it, else close
    it. `box_gone` must say that no process of the box can still be in it."""
    with _lock:
        _lent.discard(ns)
    if ns.fd < 0 or ns.owner != os.getpid():
        return
    try:
        keep = box_gone and _reuse.enabled() and clean(ns)
    except BaseException:
        ns.close()
        raise
    with _lock:
        stats["dirty"] += box_gone and not keep
        if keep and _owner == os.getpid() and len(_idle) < MAX_IDLE:
            _idle.append(ns)
            return
    ns.close()


def drop_idle() -> None:
    """Close every idle namespace (tests; a caller turning reuse off)."""
    with _lock:
        idle = list(_idle)
        _idle.clear()
    for ns in idle:
        ns.close()


def _after_fork_in_child() -> None:
    # The parent's namespaces are the parent's to lend: our copies of their fds go, and a
    # namespace lent to one of the parent's boxes is never given back here (Netns.owner).
    global _lock, _owner, _holding
    _lock = threading.Lock()
    for ns in [*_idle, *_lent]:
        for fd in (ns.fd, *ns.files):
            with contextlib.suppress(OSError):
                os.close(fd)
        ns.fd = -1
        ns.files = []
    _holding = 0
    _idle.clear()
    _lent.clear()
    _owner = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)
