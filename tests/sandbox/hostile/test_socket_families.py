"""socket() and socketpair() take only the families and protocols of SOCKET_ALLOW (seccomp.py):
creating any other makes a kernel with loadable modules load its module, as host root, at
the box's will. A refused call fails with the kernel's own errno and the program goes on
(runtimes probe and fall back); AF_VSOCK alone still ends the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import pytest
from hostile_support import Hostile, assert_sv, assert_verdict, describe, lines

from sandbox import Verdict

T = TypeVar("T")
HIGH = 1 << 32  # junk in the upper half of a register: the kernel reads an int, the low half

# (call, family, type, protocol, what the program sees): what a box may create. Ping
# sockets answer EACCES while net.ipv4.ping_group_range (per namespace, "1 0" when new)
# excludes the box's group: the kernel's refusal, after the filter let the call through.
ALLOWED = [
    ("socket", 1, 1, 0, {"ok"}), ("socket", 1, 2, 0, {"ok"}), ("socket", 1, 5, 0, {"ok"}),
    ("socket", 1, 1 | 0o2000000 | 0o4000, 1, {"ok"}),  # PF_UNIX as protocol; CLOEXEC|NONBLOCK
    ("socket", 2, 1, 0, {"ok listening"}), ("socket", 2, 1, 6, {"ok listening"}),
    ("socket", 2, 2, 0, {"ok bound"}), ("socket", 2, 2, 17, {"ok bound"}),
    ("socket", 2, 1 | 0o2000000, 6, {"ok listening"}),
    ("socket", 2, 2, 1, {"ok bound", "EACCES"}),
    ("socket", 10, 1, 0, {"ok listening"}), ("socket", 10, 1, 6, {"ok listening"}),
    ("socket", 10, 2, 17, {"ok bound"}), ("socket", 10, 2, 58, {"ok bound", "EACCES"}),
    ("socket", 16, 3, 0, {"ok bound"}), ("socket", 16, 2 | 0o2000000, 0, {"ok bound"}),
    ("socketpair", 1, 1, 0, {"ok connected"}), ("socketpair", 1, 2, 0, {"ok connected"}),
    ("socketpair", 1, 5 | 0o2000000, 0, {"ok connected"}),
    # The kernel sees AF_INET and TCP, and so does the filter.
    ("socket", 2 | HIGH, 1, 6 | HIGH, {"ok listening"}),
]

# (call, family, type, protocol, errno): refused by the filter. Modules these would load on
# stock Debian: af_packet, af_alg, tipc, rds, can, bluetooth, af_key, x25, appletalk, sctp,
# dccp, l2tp_ip, inet_diag/netlink_diag, crypto_user.
REFUSED = [
    ("socket", 0, 1, 0, "EAFNOSUPPORT"),  # AF_UNSPEC: "net-pf-0"
    ("socket", 17, 3, 0x300, "EAFNOSUPPORT"),  # AF_PACKET
    ("socket", 38, 5, 0, "EAFNOSUPPORT"),  # AF_ALG
    ("socket", 30, 5, 0, "EAFNOSUPPORT"),  # AF_TIPC
    ("socket", 21, 5, 0, "EAFNOSUPPORT"),  # AF_RDS
    ("socket", 29, 3, 1, "EAFNOSUPPORT"),  # AF_CAN
    ("socket", 31, 1, 3, "EAFNOSUPPORT"),  # AF_BLUETOOTH
    ("socket", 15, 3, 2, "EAFNOSUPPORT"),  # AF_KEY
    ("socket", 9, 5, 0, "EAFNOSUPPORT"),  # AF_X25
    ("socket", 5, 2, 0, "EAFNOSUPPORT"),  # AF_APPLETALK
    ("socket", 46, 1, 0, "EAFNOSUPPORT"),  # past AF_MAX (46 since Linux 5.15)
    ("socket", 0x7FFFFFFF, 1, 0, "EAFNOSUPPORT"),
    ("socket", 17 | HIGH, 3, 0, "EAFNOSUPPORT"),  # junk above AF_PACKET
    ("socket", 2, 1, 132, "EPROTONOSUPPORT"),  # SCTP
    ("socket", 2, 5, 132, "EPROTONOSUPPORT"),
    ("socket", 2, 6, 33, "EPROTONOSUPPORT"),  # DCCP
    ("socket", 2, 2, 115, "EPROTONOSUPPORT"),  # L2TP over IP
    ("socket", 2, 1, 262, "EPROTONOSUPPORT"),  # MPTCP (built in, but a big surface)
    ("socket", 2, 3, 255, "EPROTONOSUPPORT"),  # raw: EPERM from the kernel, refused first
    ("socket", 2, 1, 132 | HIGH, "EPROTONOSUPPORT"),
    ("socket", 2, 2, 58, "EPROTONOSUPPORT"),  # ICMPv6 is IPv6's
    ("socket", 10, 1, 132, "EPROTONOSUPPORT"),  # SCTP over IPv6
    ("socket", 10, 6, 33, "EPROTONOSUPPORT"),
    ("socket", 10, 2, 1, "EPROTONOSUPPORT"),  # ICMP is IPv4's
    ("socket", 16, 3, 4, "EPROTONOSUPPORT"),  # NETLINK_SOCK_DIAG
    ("socket", 16, 3, 9, "EPROTONOSUPPORT"),  # NETLINK_AUDIT
    ("socket", 16, 3, 16, "EPROTONOSUPPORT"),  # NETLINK_GENERIC
    ("socket", 16, 3, 21, "EPROTONOSUPPORT"),  # NETLINK_CRYPTO
    ("socket", 16, 3, 0xFFFFFFFF, "EPROTONOSUPPORT"),  # -1
    ("socketpair", 2, 1, 0, "EAFNOSUPPORT"),  # only unix pairs exist
    ("socketpair", 30, 5, 0, "EAFNOSUPPORT"),  # AF_TIPC has pairs
    ("socketpair", 16, 3, 0, "EAFNOSUPPORT"),
]

# The modules REFUSED would load (names as in /proc/modules).
MODULES = {"sctp", "dccp", "dccp_ipv4", "dccp_ipv6", "tipc", "rds", "can", "af_alg", "af_key",
           "x25", "appletalk", "bluetooth", "af_packet", "l2tp_ip", "l2tp_ip6", "inet_diag",
           "netlink_diag", "crypto_user", "can_raw", "can_bcm"}


def _args(table: list[tuple[str, int, int, int, object]]) -> list[str]:
    return [str(value) if isinstance(value, str) else hex(value)
            for call, family, kind, protocol, _ in table for value in (call, family, kind, protocol)]


def _results(hostile: Hostile, table: list[tuple[str, int, int, int, object]],
             **kwargs: object) -> dict[tuple[str, int, int, int], str]:
    result = hostile.c("socket_family", *_args(table), **kwargs)  # type: ignore[arg-type]
    assert_verdict(result, Verdict.OK)
    assert result.exit_code == 0, describe(result)
    out = lines(result)
    assert out[-1:] == ["done"] and len(out) == len(table) + 1, describe(result)
    return {(call, family, kind, protocol): line.partition(": ")[2]
            for (call, family, kind, protocol, _), line in zip(table, out[:-1], strict=True)}


def _keyed(table: list[tuple[str, int, int, int, T]]) -> list[tuple[tuple[str, int, int, int], T]]:
    return [((call, family, kind, protocol), want) for call, family, kind, protocol, want in table]


def _loaded() -> set[str] | None:
    try:
        text = Path("/proc/modules").read_text()
    except OSError:
        return None  # a kernel without modules: nothing to load
    return {line.split()[0] for line in text.splitlines() if line}


def test_allowed_families_work(hostile: Hostile) -> None:
    got = _results(hostile, ALLOWED)
    wrong = {key: got[key] for key, want in _keyed(ALLOWED) if got[key] not in want}
    assert not wrong, wrong


def test_getifaddrs_works(hostile: Hostile) -> None:
    # glibc's interface list (NETLINK_ROUTE): getaddrinfo with AI_ADDRCONFIG, libuv, Java.
    result = hostile.c("socket_family", "getifaddrs")
    assert_verdict(result, Verdict.OK)
    assert lines(result) == ["getifaddrs: ok lo"], describe(result)


def test_refused_families_fail_softly_and_load_nothing(hostile: Hostile) -> None:
    before = _loaded()
    got = _results(hostile, REFUSED)
    wrong = {key: got[key] for key, want in _keyed(REFUSED) if got[key] != want}
    assert not wrong, wrong
    if before is not None:
        assert _loaded() & MODULES <= before & MODULES  # type: ignore[operator]


@pytest.mark.skipif(os.environ.get("SANDBOX_TEST_V2_GUEST") != "1" or _loaded() is None,
                    reason="loads a kernel module: only on the throw-away v2 guest")
def test_without_the_rule_the_guest_kernel_loads_sctp(hostile: Hostile) -> None:
    # Control: the same call with socket() relaxed reaches the kernel, which loads SCTP: the
    # test above could see a module appear.
    before = _loaded()
    assert before is not None and "sctp" not in before
    got = _results(hostile, [("socket", 2, 1, 132, "")], allow_syscalls=["socket"])
    assert _loaded() - before >= {"sctp"}, (got, _loaded() - before)  # type: ignore[operator]


def test_allowing_socket_drops_its_rules_only(hostile: Hostile) -> None:
    # Raw IP needs CAP_NET_RAW, and NETLINK_GENERIC is built in: the kernel's answers, with
    # no module to load. socketpair keeps its own rules.
    table = [("socket", 2, 3, 255, "EPERM"), ("socket", 16, 3, 16, "ok bound"),
             ("socketpair", 2, 1, 0, "EAFNOSUPPORT")]
    got = _results(hostile, table, allow_syscalls=["socket"])
    assert list(got.values()) == [want for *_, want in table], got


@pytest.mark.parametrize("call", ["socket", "socketpair"])
@pytest.mark.parametrize("family", [40, 40 | HIGH])
def test_vsock_still_ends_the_run(hostile: Hostile, call: str, family: int) -> None:
    result = hostile.c("socket_family", call, hex(family), "1", "0")
    assert_sv(result, call)
    assert lines(result) == [], describe(result)


def test_refusal_patterns_cover_every_other_value_once() -> None:
    # The box tests above sample the filter; this checks the patterns behind it on every
    # value below 2**16, the top of the range and a spread between: each refused value
    # matches exactly one pattern (libseccomp takes the rules as given), allowed ones none.
    import random

    from sandbox import seccomp

    rng = random.Random(7)
    values = [*range(1 << 16), *(0xFFFFFFFF - v for v in range(1 << 12)),
              *(rng.getrandbits(32) for _ in range(1 << 14))]
    for allowed in ({*seccomp.SOCKET_ALLOW["socket"], seccomp.AF_VSOCK}, {0, 1, 6, 17}, {0}):
        patterns = seccomp._outside(allowed)
        for value in values:
            hits = sum(value & mask == want for mask, want in patterns)
            assert hits == (0 if value in allowed else 1), (allowed, value, hits)
