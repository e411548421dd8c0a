"""A client cannot hold a connection by sending its request slowly (issue 14, finding 11):
headers must be complete JUDGE_HEADER_TIMEOUT seconds after a request's first byte, and the
body JUDGE_BODY_TIMEOUT seconds after it, whatever trickles in meanwhile."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest


@pytest.fixture(scope="module")
def strict(stack: Any) -> Iterator[str]:
    yield stack.start_web(JUDGE_HEADER_TIMEOUT="1", JUDGE_BODY_TIMEOUT="2")


def _trickle(url: str, head: bytes, drip: bytes, every: float, give_up: float) -> float:
    """Send `head`, then `drip` every `every` seconds; how long until the server closed."""
    parts = urlsplit(url)
    start = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=every) as sock:
        sock.sendall(head)
        while time.monotonic() - start < give_up:
            try:
                if sock.recv(4096) == b"":
                    return time.monotonic() - start
            except TimeoutError:
                pass
            except ConnectionError:
                return time.monotonic() - start
            try:
                sock.sendall(drip)
            except ConnectionError:
                return time.monotonic() - start
    return give_up


def test_headers_sent_a_line_at_a_time_are_cut_off(strict: str) -> None:
    # Before: each byte restarted uvicorn's keep-alive timer, and this stayed open 40 s and more.
    held = _trickle(strict, b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Slow: 1\r\n", 0.3, 8)
    assert held < 4, held


def test_a_promised_body_that_never_comes_is_cut_off(strict: str) -> None:
    head = (b"POST /api/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n{")  # fmt: skip
    held = _trickle(strict, head, b" ", 0.3, 8)
    assert held < 5, held


def test_honest_clients_are_served_and_idle_keep_alive_is_not_a_request(strict: str) -> None:
    with httpx.Client(base_url=strict, timeout=10) as c:
        assert c.get("/api/problems").status_code == 200
        time.sleep(1.5)  # idle on a kept-alive connection: longer than the header deadline
        assert c.get("/api/problems").status_code == 200
        r = c.post("/api/problems", content=b"{" * 500_000,
                   headers={"content-type": "application/json"})  # fmt: skip
        assert r.status_code == 401  # answered, not cut: the body came in time
