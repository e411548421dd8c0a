"""Hold Ctrl-C off while a box's host resources are being created or released.

A KeyboardInterrupt can land between any two bytecodes; in the middle of setting up or
tearing down a box it would leave a cgroup, an fd or a waiting helper behind. The watch
loop stays interruptible: only the short setup and cleanup sections defer the signal.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    pending: list[FrameType | None] = []

    def remember(_signum: int, frame: FrameType | None) -> None:
        pending.append(frame)

    try:
        signal.signal(signal.SIGINT, remember)
        installed = True
    except ValueError:
        # Not the main thread: only it receives signals in Python. (Python's refusal tells,
        # not threading.main_thread(): importing threading costs a one-shot CLI run.)
        installed = False
    if not installed:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            previous(signal.SIGINT, pending[0])
