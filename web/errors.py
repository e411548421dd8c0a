"""One JSON error shape for the API, and the handlers that make every failure use it.

Every error body is ``{"error": code, "detail": text-or-list}``. Bad input must never become a
500: FastAPI's validation errors are mapped here (malformed JSON is a 400, not a 422), and an
unexpected exception is logged with its traceback and answered as a plain 500 without details.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
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

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)


async def _html_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    # Imported here: pages import errors, not the other way round at module load.
    from fastapi.responses import RedirectResponse

    from web.pages.render import render

    if status == 401:  # a page that needs a login sends the browser to log in, then back
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    response = render(request, "error.html", {"status": status, "message": message}, status=status)
    response.headers.update(headers or {})  # Retry-After on a 429 page too
    return response
