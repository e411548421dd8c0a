"""Whether a box's kernel parts (network namespace, cgroup) may serve another run after
this one: one run after another, never two at once, and only once the part is proven clean.

SANDBOX_REUSE=0 turns every kind of reuse off: each box then gets fresh parts, as before.
Each kind also checks on its own whether this host can prove it clean (e.g. a kernel that
cannot reset a cgroup's peak); where it cannot, that kind stays fresh.
"""

from __future__ import annotations

import os

from ._spawn import ONE_SHOT


def enabled() -> bool:
    return os.environ.get("SANDBOX_REUSE", "1") != "0"


def for_this_run() -> bool:
    """Whether this run's box may take parts from, and give them back to, the idle ones.
    Not in a one-shot process (the CLI, `sandbox doctor`): it has no next run to give them
    to, would pay for the checks (and their imports) for nothing, and must leave the
    process as it found it."""
    return enabled() and not ONE_SHOT.get()
