"""Whether a box's kernel parts (network namespace, cgroup) may serve another run after
this one: one run after another, never two at once, and only once the part is proven clean.

SANDBOX_REUSE=0 turns every kind of reuse off: each box then gets fresh parts, as before.
Each kind also checks on its own whether this host can prove it clean (e.g. a kernel that
cannot reset a cgroup's peak); where it cannot, that kind stays fresh.
"""

from __future__ import annotations

import os


def enabled() -> bool:
    return os.environ.get("SANDBOX_REUSE", "1") != "0"
