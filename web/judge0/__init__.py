"""A Judge0 CE 1.13.1 compatible API (``JUDGE_JUDGE0_PREFIX``, default ``/judge0``).

The official Judge0 SDKs work against it unchanged: ``judge0.Client(url + "/judge0",
headers={"X-Auth-Token": token})``. It is a thin translation over the judge's own store and
workers (worker.judge0 runs the submissions); errors keep Judge0's shapes, not ``/api``'s.
"""

from __future__ import annotations

import contextlib
import os
import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from web.judge0 import languages
from web.judge0.auth import Judge0Error
from web.judge0.routes import router


def _warm() -> None:
    # The lowest priority for this thread and the toolchains it starts (Linux: per thread,
    # inherited by children), so it never slows a request down.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    languages.listing()


def install(app: FastAPI, prefix: str) -> None:
    async def judge0_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Judge0Error)
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    app.add_exception_handler(Judge0Error, judge0_error)
    app.include_router(router(), prefix=prefix)

    @app.on_event("startup")
    def _warm_languages() -> None:
        # Language names carry toolchain versions, asked once per process (a JVM answers in
        # seconds): ask now, not on a client's first request (the official SDK gives up on
        # any request after 5 s).
        threading.Thread(target=_warm, name="judge0-languages", daemon=True).start()


__all__ = ["install"]
