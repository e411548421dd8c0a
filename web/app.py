"""The FastAPI application factory: wires settings, database, routers and error handling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import store
from web import api_docs, body_limits, config, errors, grading, headers, judge0
from web.api import batches, meta, problems, runs, sets, submissions, webhooks
from web.deps import AppState
from web.fairness import Fairness
from web.login_guard import LoginGuard
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
        docs_url=None,  # served by web.api_docs from local files, not a CDN
        redoc_url=None,
    )
    app.state.judge = AppState(
        settings=settings,
        engine=engine,
        sessions=store.session_factory(engine),
        signer=Signer(settings.secret_key),
        limiter=RateLimiter(settings.rate_limit, settings.rate_window),
        fairness=Fairness(settings),
        login_guard=LoginGuard(settings),
        token_use=TokenUse(engine),
    )
    errors.install(app)
    _document_bearer_auth(app)
    for module in (submissions, runs, problems, batches, sets, meta, webhooks):
        app.include_router(module.router)
    # Imported late: the pages import the API modules' helpers.
    from web.pages import routes as pages

    app.include_router(pages.router)
    judge0.install(app, settings.judge0_prefix)
    api_docs.install(app)  # before /static: its mount is the more specific path
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    limits = body_limits.Limits(
        upload=settings.max_body_bytes,
        run=min(settings.max_body_bytes, 2 * settings.run_maxima.output + body_limits.SMALL_BODY),
        run_paths=(*body_limits.RUN_PATHS, settings.judge0_prefix + "/"),
    )
    app.add_middleware(body_limits.BodyLimit, limits=limits)
    app.add_middleware(headers.SecurityHeaders)  # outermost: even a 413 carries them
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
