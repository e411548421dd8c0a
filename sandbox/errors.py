"""Exceptions: only bad arguments and hosts that cannot sandbox raise; program outcomes never do."""


class SandboxError(ValueError):
    """A bad argument (malformed limit, missing command, unreadable file), or a host that
    cannot sandbox at all; the message is one line and names what is wrong."""


class HostUnsupportedError(SandboxError):
    """The host lacks a kernel feature needed to enforce the requested isolation or limit."""
