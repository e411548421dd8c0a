"""The seccomp policy: data, compiled once per (policy, relaxations) into a BPF program.

Two kinds of rules. `notify` rules end the run with verdict SV: the kernel stops the calling
thread and tells the box's init, which names the syscall and kills the box; a program cannot
forge or hide that (the kernel refuses a second listener in one filter chain, so a program's
own filter cannot take the call over and let it "continue"). `errno` rules make the call
fail, for calls that runtimes probe and then fall back from (libuv tries io_uring, glibc
tries clone3): the program keeps working. socket() and socketpair() take an allowlist of
families and protocols (SOCKET_ALLOW; anything else fails with the kernel's own errno), so
that a box cannot make the kernel load a protocol module. Every other syscall is allowed;
namespaces, cgroups and the unprivileged uid do the rest.

A policy is a name ("default") plus per-run relaxations: `allow=("ptrace",)` drops every rule
on those syscalls, arg rules included (allowing "socket" also allows AF_VSOCK and every
family and protocol). Names are
checked against libseccomp's table and our own table of newer syscalls; an unknown name is
bad input (SandboxError).
"""

from __future__ import annotations

import _thread  # (threading's Lock is this; threading itself costs a one-shot run)
import contextlib
import errno as errno_codes
import functools
import os
from collections.abc import Iterable, Mapping

from ._record import FrozenRecord
from .errors import HostUnsupportedError, SandboxError

TYPE_CHECKING = False  # (typing imports re: the one-shot CLI pays for every module)
if TYPE_CHECKING:
    from typing import Any, ClassVar

# Each rule says why it is there. Arg conditions are (index, mask, value): the rule matches
# when (arg & mask) == value. 32-bit arguments are masked to 32 bits, since the kernel ignores
# the upper half and a filter comparing all 64 bits could be bypassed with junk there.
M32 = 0xFFFFFFFF
CLONE_NEW_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x00000080,
}
AF_VSOCK = 40
TIOCSTI = 0x5412
TIOCLINUX = 0x541C

# Syscalls newer than the tables of the libseccomp we build with (2.5.x stops near Linux
# 6.2): libseccomp cannot resolve these names, so without this table a rule on them would
# be impossible and a name-based policy would silently leave them allowed. Since Linux 5.1
# (pidfd_send_signal, 424) new syscalls get one number on every architecture but alpha.
NEWER_SYSCALLS: dict[str, int] = {
    "statmount": 457, "listmount": 458, "lsm_get_self_attr": 459, "lsm_set_self_attr": 460,
    "lsm_list_modules": 461, "mseal": 462, "setxattrat": 463, "getxattrat": 464,
    "listxattrat": 465, "removexattrat": 466, "open_tree_attr": 467, "file_getattr": 468,
    "file_setattr": 469,
}

KILL_RULES: dict[str, str] = {
    # Reading or steering another process: the classic way from one box process to another's
    # secrets, and a gateway to kernel bugs.
    "ptrace": "debugging another process",
    "process_vm_readv": "reading another process's memory",
    "process_vm_writev": "writing another process's memory",
    "process_madvise": "acting on another process's memory",
    "pidfd_getfd": "stealing another process's file descriptors",
    "kcmp": "comparing kernel objects of other processes",
    # Kernel keyrings are not namespaced: keys would be shared with the host.
    "keyctl": "kernel keyring", "add_key": "kernel keyring", "request_key": "kernel keyring",
    # Large kernel attack surfaces no judged program needs.
    "bpf": "eBPF", "perf_event_open": "perf events (also leaks kernel addresses)",
    "userfaultfd": "userfaultfd (stalls the kernel at will: race exploits)",
    "io_uring_register": "io_uring",
    # The box's filesystem view is fixed: no mounts, old or new API, no root changes.
    "mount": "mount", "umount2": "umount", "pivot_root": "pivot_root", "chroot": "chroot",
    "move_mount": "mount API", "open_tree": "mount API", "fsopen": "mount API",
    "fsconfig": "mount API", "fsmount": "mount API", "fspick": "mount API",
    "mount_setattr": "mount API", "open_tree_attr": "mount API (Linux 6.15)",
    # New namespaces are where privilege escalations start (user namespace root).
    "unshare": "new namespaces", "setns": "joining namespaces",
    # The machine itself.
    "kexec_load": "kexec", "kexec_file_load": "kexec", "init_module": "kernel modules",
    "finit_module": "kernel modules", "delete_module": "kernel modules", "reboot": "reboot",
    "swapon": "swap", "swapoff": "swap", "acct": "process accounting", "quotactl": "quotas",
    "quotactl_fd": "quotas", "iopl": "I/O ports", "ioperm": "I/O ports",
    "open_by_handle_at": "file handles (the shocker container escape)",
    "lookup_dcookie": "kernel internals", "syslog": "kernel log", "vhangup": "terminals",
    "settimeofday": "system clock", "clock_settime": "system clock", "adjtimex": "system clock",
    "clock_adjtime": "system clock", "uselib": "obsolete loader", "nfsservctl": "obsolete",
    "fanotify_init": "filesystem-wide watches",
}
# (syscall, [(arg, mask, value)], why): rules that match only some arguments.
KILL_ARG_RULES: tuple[tuple[str, tuple[tuple[int, int, int], ...], str], ...] = (
    *(("clone", ((0, flag, flag),), f"clone with {name}") for name, flag in CLONE_NEW_FLAGS.items()),
    ("socket", ((0, M32, AF_VSOCK),), "AF_VSOCK sockets reach the hypervisor"),
    ("socketpair", ((0, M32, AF_VSOCK),), "AF_VSOCK sockets reach the hypervisor"),
    ("ioctl", ((1, M32, TIOCSTI),), "TIOCSTI injects keystrokes into a terminal"),
    ("ioctl", ((1, M32, TIOCLINUX),), "TIOCLINUX reaches the console"),
)
ERRNO_RULES: dict[str, tuple[int, str]] = {
    # libuv (Node) probes io_uring and falls back to epoll; io_uring bypasses seccomp for the
    # operations it performs and has been a steady source of kernel exploits.
    "io_uring_setup": (errno_codes.ENOSYS, "io_uring"),
    "io_uring_enter": (errno_codes.ENOSYS, "io_uring"),
    # clone3 takes its flags in memory a filter cannot read; glibc falls back to clone(2),
    # whose flags we can check.
    "clone3": (errno_codes.ENOSYS, "clone3 hides namespace flags from the filter"),
    "name_to_handle_at": (errno_codes.EPERM, "file handles"),
    "memfd_secret": (errno_codes.ENOSYS, "secret memory escapes accounting"),
    # 16-bit segments: a long history of kernel bugs (espfix, CVE-2015-5157); only Wine and
    # old DOS emulators use it, and they cope with the failure.
    "modify_ldt": (errno_codes.ENOSYS, "LDT entries"),
}


RLIMIT_CORE = 4
MFD_EXEC = 0x10
# (syscall, errno, [(arg, op, value)], why): errno rules on some arguments only. op "eq32"
# compares the low 32 bits of the argument (an int in the kernel), "ne" all 64 (a pointer),
# "bits" matches when every bit of the value is set.
ERRNO_ARG_RULES: tuple[tuple[str, int, tuple[tuple[int, str, int], ...], str], ...] = (
    # With a pipe core_pattern (Ubuntu's apport, systemd-coredump) the kernel ignores
    # RLIMIT_CORE, 0 included, and runs the host's handler as host root on every crash in
    # a box, fed with the program's memory; only the value 1 means "never dump". The box
    # must start the program at 1, and the program may read the limit but not change it
    # (lowering it to 0 would turn the dumps back on).
    ("setrlimit", errno_codes.EPERM, ((0, "eq32", RLIMIT_CORE),), "core dumps reach the host"),
    ("prlimit64", errno_codes.EPERM, ((1, "eq32", RLIMIT_CORE), (2, "ne", 0)),
     "core dumps reach the host"),
    # An executable memfd is a file Landlock cannot confine: exec of one the program filled
    # would reach the kernel's module autoload (_exec_paths). Kernels before 6.3 answer the
    # unknown flag the same way.
    ("memfd_create", errno_codes.EINVAL, ((1, "bits", MFD_EXEC),), "executable memfds"),
)

# Socket families and protocols a box may create. A family or protocol the kernel lacks is
# one it loads on demand: socket() asks for the module "net-pf-F" or "net-pf-F-proto-P[-type-T]"
# (and AF_NETLINK for "net-pf-16-proto-P"), loaded as host root at the box's will. Stock
# Debian and Ubuntu kernels ship SCTP, DCCP, RDS, TIPC, CAN, AF_ALG... as such modules, a
# long line of kernel exploits, and a loaded module stays for every later box. Any other
# family fails with EAFNOSUPPORT and any other protocol of an allowed family with
# EPROTONOSUPPORT: the kernel's own answers when it has no such family or protocol, which
# runtimes that probe (Go's MPTCP, Java's IPv6) already take as "not here" and fall back.
# The type is not checked: every module alias names a protocol, and protocol 0 with any
# type matches none. (family: allowed protocols, or None for any.)
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 = 1, 6, 17, 58
NETLINK_ROUTE = 0
SOCKET_ALLOW: dict[str, dict[int, tuple[int, ...] | None]] = {
    "socket": {
        # unix_create loads nothing and refuses protocols other than 0 and PF_UNIX itself.
        AF_UNIX: None,
        # 0 (the type's default), TCP, UDP, and ICMP for unprivileged ping sockets (IPv4 and
        # IPv6 each its own). Raw sockets need CAP_NET_RAW, which the box lacks.
        AF_INET: (0, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP),
        AF_INET6: (0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6),
        # glibc's getifaddrs and getaddrinfo(AI_ADDRCONFIG), libuv's interface list. Its
        # requests that load modules ("rtnl-link-*" on RTM_NEWLINK) need CAP_NET_ADMIN over
        # the namespace. NETLINK_SOCK_DIAG and NETLINK_GENERIC load modules on request.
        AF_NETLINK: (NETLINK_ROUTE,),
    },
    # Only unix socket pairs exist (the others fail with EOPNOTSUPP, but after creating both
    # sockets: module loading included).
    "socketpair": {AF_UNIX: None},
}

POLICY_NAMES = ("default",)


class Policy(FrozenRecord):
    """A named seccomp policy plus per-run relaxations (`allow`)."""

    name: str
    allow: frozenset[str]
    _fields = ("name", "allow")
    _defaults: ClassVar[dict[str, Any]] = {"name": "default", "allow": frozenset}
    _factories = frozenset({"allow"})

    def __init__(self, name: str = "default", allow: frozenset[str] | None = None) -> None:
        self._init(name=name, allow=frozenset() if allow is None else allow)
        if self.name not in POLICY_NAMES:
            raise SandboxError(f"seccomp: unknown policy {self.name!r} (known: default, none)")
        if isinstance(self.allow, (str, bytes)) or not isinstance(self.allow, frozenset):
            raise SandboxError("allow_syscalls: expected a list of syscall names")

    @classmethod
    def coerce(cls, value: Policy | str | None, allow: Iterable[str] = ()) -> Policy | None:
        """A Policy from a Policy, "default", or None/"none" (no filter at all)."""
        if isinstance(allow, (str, bytes)):
            # A bare string would be taken letter by letter.
            raise SandboxError(f"allow_syscalls: expected a list of syscall names, got {allow!r}")
        # Checked here, at the call, so a typo is bad input whether or not a filter is on.
        allowed = validate_names(allow)
        if value is None or value == "none":
            return None
        if isinstance(value, Policy):
            return cls(value.name, value.allow | allowed) if allowed else value
        if not isinstance(value, str) or value not in POLICY_NAMES:
            raise SandboxError(f"seccomp: unknown policy {value!r} (known: default, none)")
        return cls(value, allowed)


@functools.lru_cache(maxsize=1)
def _lib() -> Any:
    try:
        import pyseccomp
    except ImportError as exc:  # pragma: no cover - depends on the host
        raise HostUnsupportedError(f"seccomp needs pyseccomp and libseccomp ({exc})") from None
    return pyseccomp


def syscall_name(arch: int, number: int) -> str:
    """Name of syscall `number` on audit arch `arch`, e.g. "ptrace" or "i386:write"."""
    lib = _lib()
    native = lib.system_arch()
    x32_bit = 0x40000000
    label = ""
    if arch != native:
        label = {0x40000003: "i386:"}.get(arch, f"arch {arch:#x}:")
    elif number & x32_bit:
        label, arch, number = "x32:", lib.Arch.X32, number & ~x32_bit
    try:
        return label + str(lib.resolve_syscall(arch, number).decode())
    except Exception:
        pass
    if not label:
        for name, known in NEWER_SYSCALLS.items():
            if known == number:
                return name
    return f"{label}syscall {number}"


def _number(name: str) -> int | None:
    """The native syscall number of `name`, or None when neither table knows it."""
    lib = _lib()
    number = lib.resolve_syscall(lib.system_arch(), name)
    if number >= 0:
        return int(number)
    return NEWER_SYSCALLS.get(name)


def validate_names(names: Iterable[str]) -> frozenset[str]:
    """The names, each checked to be a syscall of this architecture."""
    out = set()
    for name in names:
        if not isinstance(name, str) or not name.isidentifier() or _number(name) is None:
            raise SandboxError(f"allow_syscalls: unknown syscall {name!r}")
        out.add(name)
    return frozenset(out)


def _rule_target(name: str) -> str | int:
    """What libseccomp's add_rule takes for `name`: the name, or the number for syscalls
    newer than its table."""
    lib = _lib()
    if lib.resolve_syscall(lib.system_arch(), name) >= 0:
        return name
    number = NEWER_SYSCALLS.get(name)
    if number is None:  # a typo in the rules above, not bad user input
        raise HostUnsupportedError(f"seccomp: the policy names unknown syscall {name!r}")
    return number


def _outside(allowed: Iterable[int]) -> list[tuple[int, int]]:
    """(mask, value) pairs that, between them, match every 32-bit value but `allowed`, each
    value once. libseccomp has no "not in", takes one comparison per argument per rule, and
    its only comparison of the low 32 bits alone is a masked one (<, > look at all 64 bits,
    which the kernel does not: an int argument is its low half)."""
    out: list[tuple[int, int]] = []

    def walk(bit: int, prefix: int, members: list[int]) -> None:
        above = (M32 << (bit + 1)) & M32
        for value in (prefix, prefix | 1 << bit):
            inside = [m for m in members if m & (1 << bit) == value & (1 << bit)]
            if not inside:
                out.append((above | 1 << bit, value))
            elif bit:
                walk(bit - 1, value, inside)

    walk(31, 0, sorted({v & M32 for v in allowed}))
    return out


def socket_rules() -> list[tuple[str, int, tuple[tuple[int, int, int], ...]]]:
    """SOCKET_ALLOW as errno rules: (syscall, errno, [(arg, mask, value)])."""
    rules: list[tuple[str, int, tuple[tuple[int, int, int], ...]]] = []
    for name, families in SOCKET_ALLOW.items():
        # AF_VSOCK is a kill rule of its own (KILL_ARG_RULES): not matched twice.
        for mask, value in _outside({*families, AF_VSOCK}):
            rules.append((name, errno_codes.EAFNOSUPPORT, ((0, mask, value),)))
        for family, protocols in families.items():
            if protocols is not None:
                rules.extend((name, errno_codes.EPROTONOSUPPORT,
                              ((0, M32, family), (2, mask, value)))
                             for mask, value in _outside(protocols))
    return rules


_compile_lock = _thread.allocate_lock()


@functools.lru_cache(maxsize=64)
def compile_policy(policy: Policy) -> bytes:
    """The BPF program for `policy`, as bytes of struct sock_filter; compiled once per
    process, and kept on disk for the next processes (a one-shot CLI run would otherwise
    import pyseccomp and compile the filter every time: several times the run's own cost)."""
    with _compile_lock:
        return _cached_compile(policy)


_CACHE_MAGIC = b"pysandbox-seccomp 1\n"


def _cache_key(policy: Policy) -> str | None:
    """What the program depends on: this module's source (the rules and how they are
    compiled), the relaxations, libseccomp's version and the machine. None: no libseccomp
    to ask (compiling will say why)."""
    from . import _cache

    version = _libseccomp_version()
    if version is None:
        return None
    with open(__file__, "rb") as handle:
        source = handle.read()
    material = b"\0".join([source, policy.name.encode(), ",".join(sorted(policy.allow)).encode(),
                           version.encode(), os.uname().machine.encode()])
    return _cache.sha256_hex(material)


def _libseccomp_version() -> str | None:
    from ._ffi import POINTER, Structure, c_uint, function, library

    class Version(Structure):
        _fields_ = (("major", c_uint), ("minor", c_uint), ("micro", c_uint))

    try:
        lib = library("libseccomp.so.2")
    except OSError:
        return None
    got = function(lib, "seccomp_version", POINTER(Version))().contents
    return f"{got.major}.{got.minor}.{got.micro}"


def _cached_compile(policy: Policy) -> bytes:
    from . import _cache

    key = _cache_key(policy)
    if key is None:
        return _compile(policy)
    try:
        directory = _cache.cache_dir()
    except (OSError, HostUnsupportedError):
        return _compile(policy)  # no trustworthy cache: compile every time
    name = f"seccomp-{key[:32]}.bpf"
    program = _decode(_cache.read(directory, name), key)
    if program is None:
        program = _compile(policy)
        digest = _cache.sha256_hex(program).encode()
        # (Read-only or full: the next process compiles again.)
        with contextlib.suppress(OSError):
            _cache.write(directory, name, _CACHE_MAGIC + key.encode() + b"\n" + digest + b"\n"
                         + program)
    return program


def _decode(data: bytes | None, key: str) -> bytes | None:
    """The program in a cache entry, if the entry is whole and made for `key` (a truncated
    or corrupted file, or one copied from another key's name, is compiled afresh)."""
    if data is None or not data.startswith(_CACHE_MAGIC):
        return None
    header_key, _, rest = data[len(_CACHE_MAGIC):].partition(b"\n")
    digest, _, program = rest.partition(b"\n")
    if header_key != key.encode() or not program or len(program) % 8:
        return None
    from . import _cache

    return program if _cache.sha256_hex(program).encode() == digest else None


def _compile(policy: Policy) -> bytes:
    lib = _lib()
    allow = validate_names(policy.allow)
    filt = lib.SyscallFilter(lib.ALLOW)
    # Calls from another ABI (int 0x80 reaches the i386 table, with other numbers) never get
    # through: the filter's architecture check notifies init like any blocked call. x32
    # calls share the x86_64 audit arch but carry bit 0x40000000 in the number; libseccomp's
    # x86_64 filter sends every number with that bit to the same bad-arch action.
    # Never KILL_THREAD: a killed thread leaves the rest of the process running in an
    # unknown state.
    filt.set_attr(lib.Attr.ACT_BADARCH, lib.NOTIFY)
    # Syscall numbers as a binary tree, not libseccomp's default list: when a box installs
    # the filter, the kernel runs it over every number of both ABIs (its allow-cache), and
    # the list's long paths made that a third of the filter's cost per run (0.18-0.21 ms ->
    # 0.11-0.16 on fork + exec of /bin/true). libseccomp before 2.5 lacks it: the list.
    with contextlib.suppress(AttributeError, OSError, RuntimeError, ValueError):
        filt.set_attr(lib.Attr.CTL_OPTIMIZE, 2)
    for name in sorted(set(KILL_RULES) - allow):
        filt.add_rule(lib.NOTIFY, _rule_target(name))
    for name, conditions, _why in KILL_ARG_RULES:
        if name in allow:
            continue
        args = [lib.Arg(index, lib.MASKED_EQ, mask, value) for index, mask, value in conditions]
        filt.add_rule(lib.NOTIFY, _rule_target(name), *args)
    for name, (code, _why) in sorted(ERRNO_RULES.items()):
        if name not in allow:
            filt.add_rule(lib.ERRNO(code), _rule_target(name))
    for name, code, errno_conditions, _why in ERRNO_ARG_RULES:
        if name in allow:
            continue
        args = [lib.Arg(index, lib.MASKED_EQ, M32, value) if op == "eq32"
                else lib.Arg(index, lib.MASKED_EQ, value, value) if op == "bits"
                else lib.Arg(index, lib.NE, value) for index, op, value in errno_conditions]
        filt.add_rule(lib.ERRNO(code), _rule_target(name), *args)
    for name, code, conditions in socket_rules():
        if name not in allow:
            filt.add_rule(lib.ERRNO(code), _rule_target(name),
                          *(lib.Arg(index, lib.MASKED_EQ, mask, value)
                            for index, mask, value in conditions))
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb", closefd=True) as out:
            filt.export_bpf(out)
        chunks = []
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
    program = b"".join(chunks)
    if not program or len(program) % 8:
        raise HostUnsupportedError("libseccomp produced no usable BPF program")
    return program


def describe(policy: Policy | None = None) -> Mapping[str, object]:
    policy = policy or Policy()
    return {
        "name": policy.name,
        "kill": sorted(set(KILL_RULES) - policy.allow),
        "errno": sorted((set(ERRNO_RULES) | {r[0] for r in ERRNO_ARG_RULES} | set(SOCKET_ALLOW))
                        - policy.allow),
        "allowed": sorted(policy.allow),
    }
