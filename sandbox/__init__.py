"""Run untrusted code under strict limits.

    import sandbox
    r = sandbox.run(["python3", "-c", "print(1)"], {"cpu_time": 2, "memory": "64M"})
    r.verdict, r.stdout, r.cpu_time, r.memory_peak
"""

from __future__ import annotations

from .errors import HostUnsupportedError, SandboxError

TYPE_CHECKING = False  # typing's own costs an import of typing (and re) at run time
if TYPE_CHECKING:
    from typing import Any

    from .limits import Limits, parse_seconds, parse_size
    from .process import Process, spawn
    from .result import Result, Verdict
    from .seccomp import Policy
    from .supervisor import Side, run, run_interactive

__all__ = [
    "HostUnsupportedError",
    "Limits",
    "Policy",
    "Process",
    "Result",
    "SandboxError",
    "Side",
    "Verdict",
    "parse_seconds",
    "parse_size",
    "run",
    "run_interactive",
    "spawn",
]

# Public names load on first use (PEP 562): `import sandbox` stays cheap for a one-shot CLI
# and for programs that only need the exceptions; tests/sandbox/test_import_cost.py keeps it so.
_LAZY = {
    "Limits": "limits", "parse_seconds": "limits", "parse_size": "limits",
    "Result": "result", "Verdict": "result", "Policy": "seccomp",
    "Side": "supervisor", "run": "supervisor", "run_interactive": "supervisor",
    "Process": "process", "spawn": "process",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
