"""Languages, health and Prometheus metrics: the endpoints operators and clients poll."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from store import env
from store.db import data_dir
from web import grading, upstatus
from web import metrics as metrics_text
from web.deps import AppState, MaybeUser, app_state
from web.errors import ApiError
from web.schemas import Language
from worker.config import DEFAULT_REDIS_URL
from worker.metrics import WORKER_KEY

router = APIRouter(tags=["service"])


def broker_url() -> str:
    # The same default as the worker's settings: both must find the same Redis.
    return env.text("JUDGE_REDIS_URL") or DEFAULT_REDIS_URL


@router.get("/api/languages", response_model=list[Language], summary="Languages on this host")
def list_languages() -> list[Language]:
    """Languages whose toolchain is installed, each with its version line (asked once)."""
    return [Language(**lang) for lang in grading.languages()]


def _db_ok(state: AppState) -> bool:
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not healthy", which is the answer
        return False


async def _broker(url: str) -> tuple[str, int | None]:
    """("ok", live worker nodes), ("unreachable", None), or ("refusing writes", nodes): a
    Redis out of disk, out of memory or read-only answers PING but cannot take a job."""
    client = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
        workers = len([k async for k in client.scan_iter(match=WORKER_KEY + "*", count=1000)])
        try:
            await client.set(HEALTH_PROBE_KEY, "1", ex=30)
        except aioredis.ResponseError:  # MISCONF, OOM, READONLY
            return "refusing writes", workers
        return "ok", workers
    except (aioredis.RedisError, OSError):
        return "unreachable", None
    finally:
        await client.aclose()


HEALTH_PROBE_KEY = "judge:health:probe"


@router.get("/health", summary="Database and broker reachability")
async def health(request: Request) -> JSONResponse:
    """200 when the database and the broker answer, else 503 (what load balancers poll).

    ``workers`` (live worker nodes) is information, not a condition: a web server is healthy
    while its workers restart, and the queue keeps the work meanwhile.

    Under ``judge up`` the body also has ``processes`` (each child: running or restarting, its
    restarts, whether it keeps dying) and ``failing`` (the names of those that keep dying).
    Like ``workers`` they inform and never change the status code.
    """
    state = app_state(request)
    db_ok = await run_in_threadpool(_db_ok, state)
    broker, workers = await _broker(broker_url())
    ok = db_ok and broker == "ok"
    body: dict[str, Any] = {
        "status": "ok" if ok else "degraded",
        "database": "ok" if db_ok else "unreachable",
        "broker": broker,
        "workers": workers,
    }
    processes = upstatus.read(data_dir())
    if processes is not None:
        body["processes"] = processes
        body["failing"] = sorted(n for n, c in processes.items() if c.get("failing"))
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def metrics(request: Request, user: MaybeUser) -> PlainTextResponse:
    """Admins only unless JUDGE_METRICS=public: queue depths and worker counts tell an
    attacker when the judge is busy, and each scrape costs a database and a Redis round trip."""
    state = app_state(request)
    if state.settings.metrics_access != "public":
        if user is None:
            raise ApiError(401, "/metrics needs an admin's bearer token (or JUDGE_METRICS=public)")
        if not user.is_admin:
            raise ApiError(403, "only admins may read /metrics")
    db = await run_in_threadpool(metrics_text.database_numbers, state)
    broker = await metrics_text.broker_numbers(broker_url())
    return PlainTextResponse(metrics_text.render(broker, db), media_type=metrics_text.CONTENT_TYPE)
