"""Request body limits per route, enforced before anyone buffers a byte (DESIGN 5.11).

Only admin upload routes (problems, batches, the admin pages) take large bodies, and only from
a client that presents credentials at all: an anonymous 60 MiB JSON used to be read and parsed
before its 401, growing the process by hundreds of MiB while every other request waited.
Runs take their stdin in the body; everything else (submissions, forms) is small.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import errors
from web.deps import SESSION_COOKIE

#: Where large bodies are allowed (admin uploads); every route under them is admin-only.
UPLOAD_PREFIXES = ("/api/problems", "/api/batches", "/admin/")
RUN_PATHS = ("/api/runs",)
#: Submissions and forms: a 256 KiB source JSON-escaped, with room to spare.
SMALL_BODY = 2 << 20


@dataclass(frozen=True)
class Limits:
    upload: int  # admin uploads
    run: int  # /api/runs (stdin in the body)
    small: int = SMALL_BODY
    #: Paths that take stdin in the body like /api/runs (the Judge0 API's prefix).
    run_paths: tuple[str, ...] = RUN_PATHS

    def for_path(self, path: str) -> tuple[int, bool]:
        """(the limit, whether credentials must be presented before the body is read)."""
        if path.startswith(UPLOAD_PREFIXES):
            return self.upload, True
        if path.startswith(self.run_paths):
            return self.run, False
        return self.small, False


class BodyLimit:
    """Refuse request bodies above the route's limit with 413 before anyone buffers them.

    The declared Content-Length is checked at once; streamed (chunked) bodies are counted as
    they arrive, so a client cannot make the server hold a gigabyte by not declaring a length.
    The 413 raised mid-stream is an HTTPException, which FastAPI passes through to the handlers.
    """

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit, needs_credentials = self.limits.for_path(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        large = declared is None or not declared.isdigit() or int(declared) > self.limits.small
        if needs_credentials and large and not _has_credentials(headers):
            # The route answers 401 anyway: say so before the body, not after reading it.
            response = errors.error_response(401, "authentication required")
            await response(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = errors.error_response(413, f"request body above {limit} bytes")
            await response(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"request body above {limit} bytes")
            return message

        await self.app(scope, counting_receive, send)


def _has_credentials(headers: dict[bytes, bytes]) -> bool:
    if headers.get(b"authorization", b"").lower().startswith(b"bearer "):
        return True
    return SESSION_COOKIE.encode() + b"=" in headers.get(b"cookie", b"")
