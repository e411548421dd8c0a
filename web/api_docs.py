"""The API's documentation pages, served from the judge itself (issue 18: `/docs` was blank on
a network with no internet, because FastAPI's default page loads Swagger UI from a CDN).

Swagger UI comes from the ``fastapi-offline`` package's static files (a dependency: nothing
third-party is copied into this project), mounted under ``/static/api-docs``; the page is
FastAPI's own HTML with those local URLs. No ReDoc: the version bundled there fails on the
``$defs`` references of our OpenAPI 3.1 schema ("Invalid reference token").
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PREFIX = "/static/api-docs"


def assets() -> Path:
    import fastapi_offline  # type: ignore[import-untyped,unused-ignore]

    return Path(fastapi_offline.__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Serve /docs with local assets; the app must be made with docs_url=None."""
    app.mount(PREFIX, StaticFiles(directory=assets()), name="api-docs")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png",
        )
