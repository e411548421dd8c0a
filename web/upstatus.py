"""What ``judge up`` knows about its children, shared with the web server it started.

The supervisor and the web server are separate processes, and only the supervisor sees a worker
die. It writes a small JSON file in the data dir on every change; ``/health`` reads it. The web
server trusts the file only when the PID in it is its own parent: a file left by an earlier
``judge up``, or read by a ``judge web`` started by hand, is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

FILENAME = "up-status.json"


def path(data: Path) -> Path:
    return data / FILENAME


def write(data: Path, children: dict[str, dict[str, Any]]) -> None:
    """Replace the status file atomically; a full or broken disk is not the supervisor's end."""
    target = path(data)
    tmp = target.with_name(f".{FILENAME}.{os.getpid()}")
    body = json.dumps({"pid": os.getpid(), "children": children}, sort_keys=True)
    try:
        tmp.write_text(body)
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def remove(data: Path) -> None:
    with contextlib.suppress(OSError):
        path(data).unlink()


def read(data: Path) -> dict[str, Any] | None:
    """The children of the ``judge up`` that started this process, or None (not under one)."""
    try:
        raw = json.loads(path(data).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("pid") != os.getppid():
        return None
    children = raw.get("children")
    return children if isinstance(children, dict) else None
