"""`sandbox serve --socket PATH`: one long-lived supervisor with warm boxes, for callers in any
language that make many runs (a judge in C++, Go or PHP). It costs what `sandbox.run` costs in
a Python process, where a `sandbox run` command also pays for starting Python.

Protocol (JSON lines over a Unix stream socket): each request is one JSON object on one
line; the answer to it is one JSON object on one line, in order, on the same connection.
Keep the connection open for many requests. A request:

    {"cmd": ["./a.out"], "limits": {"cpu_time": 1, "memory": "64M"},
     "stdin": "1 2\\n", "files": {"a.out": "<base64>"}, "executables": ["a.out"],
     "copy_out": ["out.txt"], "env": {"NAME": "value"}}

Only "cmd" is required; "stdin_b64" gives stdin as base64 instead. The answer is the Result
as `sandbox run --json` prints it, except that "files" (the copy-outs) are base64, or
{"error": "one line"} for a bad request (the connection stays usable).

Isolation between callers: a request names no host path (files and stdin come inline,
copy-outs go back inline, host directories are bound only by the server's own --bind), each
request runs in a box of its own that serves that run alone, and its answer goes only to the
connection that asked. The socket is made with mode 0600 (--mode to open it to a group), so
only its owner (or that group) may connect; a box, whose uid is an unprivileged one of its
own, cannot, even where the socket's directory is bound into it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import socket
import stat
import threading
from collections.abc import Iterable
from typing import Any

from ._spawn import ONE_SHOT
from .errors import SandboxError
from .result import Result
from .supervisor import run

MAX_REQUEST = 256 << 20  # bytes of one request line (files come inline, as base64)
KEYS = {"cmd", "limits", "stdin", "stdin_b64", "files", "executables", "copy_out", "env"}


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise SandboxError(f"{what}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SandboxError(f"{what}: not base64") from None


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SandboxError(f"{what}: expected a list of strings")
    return value


def answer(line: bytes, binds: Iterable[str]) -> dict[str, Any]:
    """The answer to one request line: a Result's JSON, or {"error": ...}."""
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return {"error": "request: expected one JSON object per line"}
    try:
        if not isinstance(request, dict):
            raise SandboxError("request: expected a JSON object")
        unknown = sorted(set(request) - KEYS)
        if unknown:
            raise SandboxError(f"request: unknown key {unknown[0]!r} (known: "
                               f"{', '.join(sorted(KEYS))})")
        if "stdin" in request and "stdin_b64" in request:
            raise SandboxError("request: stdin and stdin_b64 are exclusive")
        stdin: bytes | None = None
        if "stdin" in request:
            if not isinstance(request["stdin"], str):
                raise SandboxError("stdin: expected text")
            stdin = request["stdin"].encode()
        elif "stdin_b64" in request:
            stdin = _b64(request["stdin_b64"], "stdin_b64")
        files = request.get("files", {})
        if not isinstance(files, dict):
            raise SandboxError("files: expected an object of box path: base64")
        # Content only, never a host path: a caller must not make the server (root) read
        # a file the caller could not.
        contents = {name: _b64(data, f"files[{name!r}]") for name, data in files.items()}
        env = request.get("env", {})
        if not isinstance(env, dict):
            raise SandboxError("env: expected an object")
        limits = request.get("limits")
        if limits is not None and not isinstance(limits, dict):
            raise SandboxError("limits: expected an object")
        result = run(_strings(request.get("cmd"), "cmd"), limits, stdin=stdin, files=contents,
                     executables=_strings(request.get("executables", []), "executables"),
                     copy_out=_strings(request.get("copy_out", []), "copy_out"), env=env,
                     binds=binds)
    except SandboxError as exc:
        return {"error": str(exc)}
    return _result_json(result)


def _result_json(result: Result) -> dict[str, Any]:
    data = result.to_json()
    data["files"] = {k: base64.b64encode(v).decode() for k, v in result.files.items()}
    return data


def _serve_client(conn: socket.socket, binds: tuple[str, ...]) -> None:
    # Warm boxes and the zygote on, whatever the thread that started us had (the CLI's
    # one-shot setting is for its own single run).
    ONE_SHOT.set(False)
    with conn, conn.makefile("rb") as reader:
        while True:
            line = reader.readline(MAX_REQUEST + 1)
            if not line:
                return
            if len(line) > MAX_REQUEST:
                conn.sendall(b'{"error": "request: longer than the limit"}\n')
                return  # the rest of that line cannot be told from a next request
            if not line.strip():
                continue
            try:
                reply = answer(line, binds)
            except Exception as exc:  # an internal failure answers this request only
                reply = {"error": f"internal error: {type(exc).__name__}: {exc}"}
            try:
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                return  # the caller left


def listen(path: str, mode: int = 0o600) -> socket.socket:
    """A listening socket at `path`, made with `mode` from the start (never briefly open
    to others). An old socket there is replaced; anything else is refused."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise SandboxError(f"--socket: {path} exists and is not a socket")
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o777 & ~mode)
    try:
        server.bind(path)
    except OSError as exc:
        server.close()
        raise SandboxError(f"--socket: cannot listen at {path}: {exc.strerror}") from None
    finally:
        os.umask(old)
    os.chmod(path, mode)
    server.listen(64)
    return server


def checked_binds(binds: Iterable[str]) -> tuple[str, ...]:
    """The server's --bind directories, checked (before it listens: bad usage, not a
    failure of every request)."""
    from .rootfs import validate_binds

    return validate_binds(binds)


def serve(server: socket.socket, binds: tuple[str, ...] = (),
          stop: threading.Event | None = None) -> None:
    """Answer connections until `stop` is set (or forever), one thread per connection;
    `binds` from `checked_binds`."""
    server.settimeout(0.2)
    while stop is None or not stop.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        threading.Thread(target=_serve_client, args=(conn, binds), daemon=True,
                         name="sandbox-serve").start()
