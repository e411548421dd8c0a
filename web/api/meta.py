"""Languages, health and Prometheus metrics: the endpoints operators and clients poll."""

from __future__ import annotations

import os
from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select, text

from store import Submission
from web import grading
from web.deps import AppState, app_state
from web.schemas import Language

router = APIRouter(tags=["service"])
QUEUES = ("interactive", "batch")


def broker_url() -> str:
    # The same default as the worker's settings: both must find the same Redis.
    return os.environ.get("JUDGE_REDIS_URL", "redis://127.0.0.1:6379/0")


@router.get("/api/languages", response_model=list[Language], summary="Languages on this host")
def list_languages() -> list[Language]:
    return [Language(**lang) for lang in grading.languages()]


async def _queue_depths() -> dict[str, int] | None:
    client = aioredis.from_url(broker_url(), socket_timeout=2, socket_connect_timeout=2)
    try:
        # Celery's Redis transport keeps each queue as a list named after it.
        return {q: int(await client.llen(q)) for q in QUEUES}
    except (aioredis.RedisError, OSError):
        return None
    finally:
        await client.aclose()


def _db_ok(state: AppState) -> bool:
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not healthy", which is the answer
        return False


@router.get("/health", summary="Database and broker reachability")
async def health(request: Request) -> JSONResponse:
    state = app_state(request)
    db_ok = await run_in_threadpool(_db_ok, state)
    depths = await _queue_depths()
    ok = db_ok and depths is not None
    body: dict[str, Any] = {
        "status": "ok" if ok else "degraded",
        "database": "ok" if db_ok else "unreachable",
        "broker": "ok" if depths is not None else "unreachable",
    }
    return JSONResponse(body, status_code=200 if ok else 503)


def _counts(state: AppState) -> tuple[dict[str, int], dict[str, int]]:
    with state.sessions() as s:
        by_status = dict(
            s.execute(select(Submission.status, func.count()).group_by(Submission.status)).all()
        )
        by_verdict = dict(
            s.execute(
                select(Submission.verdict, func.count())
                .where(Submission.verdict.is_not(None))
                .group_by(Submission.verdict)
            ).all()
        )
    return {str(k): v for k, v in by_status.items()}, {str(k): v for k, v in by_verdict.items()}


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def metrics(request: Request) -> PlainTextResponse:
    state = app_state(request)
    by_status, by_verdict = await run_in_threadpool(_counts, state)
    depths = await _queue_depths() or {}
    lines = [
        "# HELP judge_queue_depth Messages waiting in each broker queue.",
        "# TYPE judge_queue_depth gauge",
        *(f'judge_queue_depth{{queue="{q}"}} {n}' for q, n in depths.items()),
        "# HELP judge_submissions Submissions in the database by status.",
        "# TYPE judge_submissions gauge",
        *(f'judge_submissions{{status="{k}"}} {v}' for k, v in sorted(by_status.items())),
        "# HELP judge_verdicts_total Graded submissions by verdict.",
        "# TYPE judge_verdicts_total counter",
        *(f'judge_verdicts_total{{verdict="{k}"}} {v}' for k, v in sorted(by_verdict.items())),
        "# HELP judge_broker_up Whether the broker answered.",
        "# TYPE judge_broker_up gauge",
        f"judge_broker_up {1 if depths else 0}",
    ]
    return PlainTextResponse(
        "\n".join(lines) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8"
    )
