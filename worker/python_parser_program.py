"""The long-lived Python syntax checker: runs inside its box as ``python3 -S -I -c <this text>
<the check>``, never imported by the worker (worker.python_parser passes this file's text).

It reproduces the per-submission check exactly: each request's sources become files in a fresh
directory, the check's own code (languages._PY_CHECK_ALL, given as argv[1]) runs there in a
fresh ``__main__``-like namespace, and what the interpreter would have printed on its way out
(``sys.excepthook`` on the same traceback, compile-time warnings) is captured from sys.stderr
with the real stderr's encoding. Nothing it is sent is ever executed: the check only calls
compile().

Protocol on stdin/stdout, every message one frame: a 4-byte big-endian length, then that many
bytes. A request: an 8-byte nonce, a 4-byte file count, then per file a 4-byte length and the
name (UTF-8), a 4-byte length and the content. An answer: the request's nonce (so an answer
written early or twice never passes for the answer to a later request), one status byte, then
the captured stderr.
Status b"0": the check passed; b"1": it failed with this output; b"2": it failed in a way that
depends on this process (recursion depth, memory), so the caller must ask the box instead.

No ``from __future__`` import here: compile() would inherit its flags into the check's code.
"""

import io
import os
import sys

TYPE_CHECKING = False  # (no typing import in the box: nothing the check does may differ)
if TYPE_CHECKING:
    from types import CodeType

_SURE = (SyntaxError, ValueError)  # ValueError: null bytes (3.11), the same in any process


def _read_exact(n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(0, min(n, 1 << 20))
        if not chunk:
            raise SystemExit(0)  # the worker closed our stdin: our life is over
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _u32(data: bytes, at: int) -> tuple[int, int]:
    return int.from_bytes(data[at:at + 4], "big"), at + 4


def _files(request: bytes) -> list[tuple[str, bytes]]:
    count, at = _u32(request, 8)
    out = []
    for _ in range(count):
        size, at = _u32(request, at)
        name = request[at:at + size].decode("utf-8", "surrogateescape")
        at += size
        size, at = _u32(request, at)
        out.append((name, request[at:at + size]))
        at += size
    return out


def _check(code: "CodeType", workdir: str) -> tuple[bytes, bytes]:
    """(status, stderr) of one check, run in `workdir` as `python3 -c` would run it."""
    real = sys.stderr
    captured = io.BytesIO()
    wrapper = io.TextIOWrapper(captured, encoding=real.encoding, errors=real.errors,
                               write_through=True)
    sys.stderr = wrapper
    failure = None
    os.chdir(workdir)
    try:
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
    except BaseException as exc:  # (reported below, outside the handler: no __context__)
        failure = exc
    try:
        if failure is not None and isinstance(failure, _SURE):
            # The traceback without our own frame: the check's module frame alone, as -c has.
            # (The hook prints the exception's own __traceback__, not its argument's.)
            tb = failure.__traceback__
            failure = failure.with_traceback(tb.tb_next if tb is not None else None)
            sys.__excepthook__(type(failure), failure, failure.__traceback__)
        wrapper.flush()
    finally:
        sys.stderr = real
        os.chdir("/box")
    wrapper.detach()  # (else its end closes `captured`)
    if failure is None:
        return b"0", captured.getvalue()
    if not isinstance(failure, _SURE):
        return b"2", b""
    return b"1", captured.getvalue()


def main() -> None:
    code = compile(sys.argv[1], "<string>", "exec", dont_inherit=True)
    number = 0
    while True:
        size = int.from_bytes(_read_exact(4), "big")
        request = _read_exact(size)
        nonce, files = request[:8], _files(request)
        del request
        number += 1
        workdir = f"/box/r{number}"
        os.mkdir(workdir)
        for name, data in files:
            fd = os.open(os.path.join(workdir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.close(fd)
        del files
        status, err = _check(code, workdir)
        for name in os.listdir(workdir):
            os.unlink(os.path.join(workdir, name))
        os.rmdir(workdir)
        answer = memoryview((9 + len(err)).to_bytes(4, "big") + nonce + status + err)
        while answer:
            answer = answer[os.write(1, answer):]


if __name__ == "__main__":  # (-c runs as __main__; an import by a tool does nothing)
    main()
