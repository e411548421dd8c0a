"""Bodies are bounded per route and read only when they may be used; every response carries
the anti-framing and nosniff headers (issue 14, findings 6 and 10)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

MiB = 1 << 20


def _answer_before_body(url: str, path: str, headers: dict[str, str]) -> int:
    """POST the headers of a 60 MiB body and one chunk of it, then wait for an answer without
    sending the rest: a server that reads the body first never answers (the read times out)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}",
                "Transfer-Encoding: chunked", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        chunk = b" " * (64 << 10)
        sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        status_line = sock.makefile("rb").readline()  # socket.timeout if the server waits
    return int(status_line.split()[1])


def test_an_anonymous_upload_is_refused_before_its_body(stack: Any) -> None:
    for path, kind in (("/api/problems", "application/json"),
                       ("/api/problems/import", "application/zip"),
                       ("/api/batches", "application/json")):  # fmt: skip
        assert _answer_before_body(stack.url, path, {"Content-Type": kind}) == 401, path
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        r = c.post("/api/problems", content=b"{" * (3 * MiB),
                   headers={"content-type": "application/json"})  # fmt: skip
        assert r.status_code == 401


def test_a_submission_body_is_small(stack: Any) -> None:
    body = json.dumps({"problem": "aplusb", "language": "python3", "source": "#" * (3 * MiB)})
    with stack.client("alice") as c:
        r = c.post("/api/submissions", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "request body above" in r.json()["detail"]
    # Streamed without a length, it is cut when it passes the limit: the answer comes while
    # the client still has most of its 60 MiB to send.
    auth = {"Authorization": f"Bearer {stack.tokens['alice']}", "Content-Type": "application/json"}
    assert _streamed_until_answer(stack.url, "/api/submissions", auth) < 8 * MiB


def _streamed_until_answer(url: str, path: str, headers: dict[str, str]) -> int:
    """Stream a chunked body until the server answers; how many bytes went out by then."""
    parts = urlsplit(url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}",
                "Transfer-Encoding: chunked", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        chunk = b" " * (256 << 10)
        sock.setblocking(False)
        reply = b""
        deadline = time.monotonic() + 20
        while b"\r\n" not in reply and time.monotonic() < deadline and sent < 60 * MiB:
            try:
                reply += sock.recv(4096)
                continue
            except BlockingIOError:
                pass
            try:
                sock.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
            except (BlockingIOError, ConnectionError):
                time.sleep(0.01)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    return sent


def test_an_admin_may_still_upload_a_large_problem(stack: Any) -> None:
    big = "1\n" * (2 * MiB)  # 4 MiB of test data: above the small limit
    problem = {"slug": "big-upload", "tests": [{"input": big, "output": big}]}
    with stack.client("admin") as c:
        r = c.post("/api/problems", json=problem)
        assert r.status_code == 201, r.text[:200]
        assert r.json()["tests"] == 1 and r.json()["tests_detail"] is None
        assert len(r.content) < 4096  # the upload is not echoed


def test_every_response_refuses_framing_and_sniffing(stack: Any) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        responses = [
            c.get("/"),
            c.get("/api/problems"),
            c.get("/api/problems/nope"),
            c.get("/static/style.css"),
            c.post("/api/submissions", content=b"x" * (3 * MiB)),
        ]
    assert [r.status_code for r in responses] == [200, 200, 404, 200, 413]
    for r in responses:
        assert r.headers["x-frame-options"] == "DENY", r.url
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_metrics_are_for_admins_unless_made_public(stack: Any) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as anonymous:
        assert anonymous.get("/metrics").status_code == 401
    public = stack.start_web(JUDGE_METRICS="public")
    with httpx.Client(base_url=public, timeout=30) as anonymous:
        r = anonymous.get("/metrics")
    assert r.status_code == 200 and "judge_broker_up" in r.text
