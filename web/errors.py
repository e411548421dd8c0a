"""One JSON error shape for the API, and the handlers that make every failure use it.

Every error body is ``{"error": code, "detail": text-or-list}``. Bad input must never become a
500: FastAPI's validation errors are mapped here (malformed JSON is a 400, not a 422), and an
unexpected exception is logged with its traceback and answered as a plain 500 without details.

A database that is down, locked or out of disk is not a bug either: that is a 503 with
``Retry-After`` (see :func:`unavailable`). It is handled by a handler of its own class, not the
catch-all, on purpose: Starlette re-raises whatever reaches the catch-all after answering, and
uvicorn then closes the connection, so a keep-alive client's next request would be reset.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("web")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
    504: "timeout",
}


#: Seconds a client is asked to wait when the database is unavailable.
RETRY_AFTER = "5"

# SQLite reports a full disk, an I/O error or a lock in the message only (sqlite3 has no codes
# before 3.11's sqlite_errorname, and the DBAPI class is OperationalError for SQL mistakes too).
_SQLITE_UNAVAILABLE = (
    "database or disk is full",
    "disk i/o error",
    "database is locked",
    "unable to open database file",
    "attempt to write a readonly database",
)
# PostgreSQL SQLSTATE classes that mean "not now" rather than "wrong": connection exception,
# insufficient resources (disk full, out of memory, too many connections), operator
# intervention (shutdown, starting up), system error (I/O); and a read-only transaction.
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")
_PG_UNAVAILABLE_STATES = ("25006",)
_OS_UNAVAILABLE = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS)


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database or the disk cannot serve now (a 503, not a 500)."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, OSError):
        return exc.errno in _OS_UNAVAILABLE
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, OSError):
        return orig.errno in _OS_UNAVAILABLE
    state = getattr(orig, "sqlstate", None)  # psycopg 3
    if isinstance(state, str):
        return state[:2] in _PG_UNAVAILABLE_CLASSES or state in _PG_UNAVAILABLE_STATES
    if type(orig).__module__.startswith("psycopg"):
        # No SQLSTATE: the server never answered (refused, reset, closed mid-query).
        return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    message = str(orig).lower()
    return any(m in message for m in _SQLITE_UNAVAILABLE)


class ApiError(Exception):
    """Raise from a handler to answer with this status and message."""

    def __init__(self, status: int, detail: Any, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    body = {"error": _CODES.get(status, "error"), "detail": jsonable_encoder(detail)}
    return JSONResponse(body, status_code=status, headers=headers)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if _wants_html(request):
            return await _html_error(request, exc.status, str(exc.detail), exc.headers)
        return error_response(exc.status, exc.detail, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _wants_html(request):
            return await _html_error(request, exc.status_code, str(exc.detail))
        return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "the request body is not valid JSON")
        # Pydantic puts the offending input (maybe megabytes, maybe bytes) in each error.
        slim = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in errors]
        return error_response(422, slim)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; it has been logged")

    async def storage_error(request: Request, exc: Exception) -> Response:
        if not unavailable(exc):
            return await unexpected(request, exc)  # a bug: logged 500, connection kept
        # One line, no traceback: during an outage every request lands here.
        log.warning("%s %s: database or disk unavailable: %s", request.method,
                    request.url.path, _first_line(exc))  # fmt: skip
        message = "the database is unavailable; try again shortly"
        headers = {"Retry-After": RETRY_AFTER}
        if _wants_html(request):
            return await _html_error(request, 503, message, headers)
        return error_response(503, message, headers)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    # Their own classes, so these never reach the catch-all (which closes the connection).
    for cls in (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(cls, storage_error)
    app.add_exception_handler(Exception, unexpected)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


async def _html_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    # Imported here: pages import errors, not the other way round at module load.
    from fastapi.responses import RedirectResponse

    from web.pages.render import render

    if status == 401:  # a page that needs a login sends the browser to log in, then back
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    # The page's header shows who is logged in, as every other page does (issue 18: a 404
    # offered "Log in / Sign up" to a logged-in user). Not for 5xx: the database may be why.
    user = await run_in_threadpool(_page_user, request) if status < 500 else None
    response = render(request, "error.html", {"status": status, "message": message},
                      user=user, status=status)  # fmt: skip
    response.headers.update(headers or {})  # Retry-After on a 429 page too
    return response


def _page_user(request: Request) -> Any:
    """The logged-in user of a browser request, or None (also when it cannot be read)."""
    from store import User
    from web.deps import app_state, browser_session

    try:
        data = browser_session(request)
        if data is None or data.user_id is None:
            return None
        with app_state(request).sessions() as session:
            user = session.get(User, data.user_id)
            if user is None or user.session_epoch != data.epoch:
                return None
            return user
    except Exception:
        return None  # an error page must render whatever else is wrong
