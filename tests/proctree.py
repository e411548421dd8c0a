"""Processes by /proc, for tests that must see what a server or `judge up` left behind."""

from __future__ import annotations

import contextlib
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (through /proc/*/task/*/children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids = {int(k) for k in (task / "children").read_text().split()} - found
                found |= kids
                todo += kids
    return found


def alive(pid: int) -> bool:
    """Running or sleeping: a zombie has ended, whatever its parent has not yet reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
