"""The FastAPI application factory: wires settings, database, routers and error handling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import store
from web import config, errors, grading
from web.api import batches, meta, problems, runs, submissions
from web.deps import AppState
from web.ratelimit import RateLimiter
from web.security import Signer
from web.token_use import TokenUse

STATIC = Path(__file__).with_name("static")


def create_app(settings: config.Settings | None = None, database_url: str | None = None) -> FastAPI:
    """Build the app. The database is migrated here so ``judge web`` alone is enough to start."""
    settings = settings or config.load()
    grading.bound_broker_waits()
    engine = store.init_db(database_url)
    app = FastAPI(
        title="Judge",
        version="0.1.0",
        description="Submit programs, get per-test verdicts. Authenticate with "
        "`Authorization: Bearer <token>` (tokens: `judge token create NAME`).",
    )
    app.state.judge = AppState(
        settings=settings,
        engine=engine,
        sessions=store.session_factory(engine),
        signer=Signer(settings.secret_key),
        limiter=RateLimiter(settings.rate_limit, settings.rate_window),
        token_use=TokenUse(engine),
    )
    errors.install(app)
    _document_bearer_auth(app)
    for module in (submissions, runs, problems, batches, meta):
        app.include_router(module.router)
    # Imported late: the pages import the API modules' helpers.
    from web.pages import routes as pages

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


def _document_bearer_auth(app: FastAPI) -> None:
    """Declare bearer tokens in the OpenAPI schema, so /docs offers an Authorize button.

    Authentication itself is done by web.deps (it also accepts the browser's session cookie),
    which is why this is documentation only and not a FastAPI security dependency.
    """
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a token from `judge token create NAME`"}
            }  # fmt: skip
            schema["security"] = [{"bearer": []}, {}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class BodyLimit:
    """Refuse request bodies above a size with 413 before anyone buffers them.

    The declared Content-Length is checked at once; streamed (chunked) bodies are counted as
    they arrive, so a client cannot make the server hold a gigabyte by not declaring a length.
    The 413 raised mid-stream is an HTTPException, which FastAPI passes through to the handlers.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = errors.error_response(413, f"request body above {self.limit} bytes")
            await response(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"request body above {self.limit} bytes")
            return message

        await self.app(scope, counting_receive, send)
