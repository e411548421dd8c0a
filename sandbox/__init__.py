"""Run untrusted code under strict limits.

    import sandbox
    r = sandbox.run(["python3", "-c", "print(1)"], {"cpu_time": 2, "memory": "64M"})
    r.verdict, r.stdout, r.cpu_time, r.memory_peak
"""

from .errors import HostUnsupportedError, SandboxError
from .limits import Limits, parse_seconds, parse_size
from .result import Result, Verdict
from .seccomp import Policy
from .supervisor import Side, run, run_interactive

__all__ = [
    "HostUnsupportedError",
    "Limits",
    "Policy",
    "Result",
    "SandboxError",
    "Side",
    "Verdict",
    "parse_seconds",
    "parse_size",
    "run",
    "run_interactive",
]
