"""Deadlines for receiving a request (issue 14, finding 11).

uvicorn has no header or body read timeout: its keep-alive timer is cancelled by every byte
received, so a client sending a header line every few seconds, or promising a body it never
sends, held a connection past 40 s (slowloris: enough of them and nobody else gets in).
This protocol gives each request `header_timeout` seconds from its first byte to complete its
headers and `body_timeout` seconds in all to complete its body, then closes the connection
(JUDGE_HEADER_TIMEOUT, JUDGE_BODY_TIMEOUT: a 64 MiB upload needs about 1 MiB/s by default).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("judge.web")


class DeadlineH11Protocol(H11Protocol):
    header_timeout = 10.0
    body_timeout = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._started = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm(self.header_timeout)  # the first byte of a new request on this connection
        super().data_received(data)
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow(self) -> None:
        """After each read: from headers to body, the deadline moves; when done, it ends."""
        state = self.conn.their_state
        if state is h11.SEND_BODY and self._phase == "headers":
            self._arm(self.body_timeout - (self.loop.time() - self._started), phase="body")
        elif state is not h11.IDLE and state is not h11.SEND_BODY:
            self._disarm()  # the whole request is in (or the connection is ending)

    _phase = "headers"

    def _arm(self, seconds: float, phase: str = "headers") -> None:
        self._disarm()
        if phase == "headers":
            self._started = self.loop.time()
        self._phase = phase
        self._deadline = self.loop.call_later(max(0.0, seconds), self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            peer = self.client[0] if self.client else "?"
            log.warning("closing a connection from %s: its request's %s took too long",
                        peer, self._phase)  # fmt: skip
            self.transport.close()
