"""Hold Ctrl-C off while a box's host resources are being created or released.

A KeyboardInterrupt can land between any two bytecodes; in the middle of setting up or
tearing down a box it would leave a cgroup, an fd or a waiting helper behind. The watch
loop stays interruptible: only the short setup and cleanup sections defer the signal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals in Python
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    pending: list[FrameType | None] = []

    def remember(_signum: int, frame: FrameType | None) -> None:
        pending.append(frame)

    signal.signal(signal.SIGINT, remember)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            previous(signal.SIGINT, pending[0])
