"""The watch loop never waits on nothing: a poll with no fd registered sleeps out its whole
timeout (half a second), which a quick program in a warm box used to get once run in six,
its output and exit all read by the drain at the top of the loop."""

from __future__ import annotations

import select
from types import SimpleNamespace
from typing import Any

import pytest

import sandbox
from sandbox import _watch


class RecordingPoll:
    """A real poll object that notes, for each wait, how many fds it had and the timeout."""

    def __init__(self, log: list[tuple[int, float]]) -> None:
        self._poll = select.poll()
        self._fds: set[int] = set()
        self._log = log

    def register(self, fd: int, events: int) -> None:
        self._fds.add(fd)
        self._poll.register(fd, events)

    def unregister(self, fd: int) -> None:
        self._fds.discard(fd)
        self._poll.unregister(fd)

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        self._log.append((len(self._fds), timeout))
        return self._poll.poll(timeout)


def test_drain_does_not_wait_when_nothing_is_open() -> None:
    log: list[tuple[int, float]] = []
    poller = RecordingPoll(log)
    box: Any = object()
    _watch._drain(poller, {}, {box: set()}, 500.0)  # type: ignore[arg-type]
    assert log == []


def test_warm_runs_never_wait_on_an_empty_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[tuple[int, float]] = []
    monkeypatch.setattr(_watch, "select", SimpleNamespace(
        poll=lambda: RecordingPoll(log), POLLIN=select.POLLIN))
    for _ in range(40):  # (the race hit about one run in six before the fix)
        result = sandbox.run(["/bin/true"])
        assert result.verdict is sandbox.Verdict.OK, result.message
    assert log, "the watch loop polled"
    empty_waits = [timeout for fds, timeout in log if fds == 0 and timeout > 0]
    assert empty_waits == []
