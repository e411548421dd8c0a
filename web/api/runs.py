"""``POST /api/runs``: compile and run one program on given input, no problem involved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

import sandbox
import store
from web import grading
from web.api.submissions import check_rate
from web.deps import CurrentUser, app_state
from web.errors import ApiError
from web.schemas import RunIn, RunOut, error_responses

router = APIRouter(prefix="/api/runs", tags=["runs"])
#: The shortest wait for a worker's reply, whatever JUDGE_WAIT_TIMEOUT says (0 would mean "never").
MIN_WAIT = 1.0
#: What a run without a cpu_time limit is charged (the sandbox's default limit).
DEFAULT_CPU_TIME = sandbox.Limits().cpu_time


def checked_limits(body: RunIn, request: Request) -> dict[str, Any]:
    """The requested limits as a plain mapping; 422 for anything above the server's maxima."""
    maxima = app_state(request).settings.run_maxima
    out: dict[str, Any] = {}
    lim = body.limits
    for name, value, ceiling in (
        ("cpu_time", lim.cpu_time, maxima.cpu_time),
        ("wall_time", lim.wall_time, maxima.wall_time),
        ("pids", lim.pids, maxima.pids),
    ):
        if value is not None:
            if value > ceiling:
                raise ApiError(422, f"limits.{name}: at most {ceiling:g} on this server")
            out[name] = value
    for name, raw, cap in (
        ("memory", lim.memory, maxima.memory),
        ("output", lim.output, maxima.output),
    ):
        if raw is not None:
            try:
                size = store.parse_size(raw)
            except store.ProblemError as e:
                raise ApiError(422, f"limits.{name}: {e}") from None
            if size > cap:
                raise ApiError(422, f"limits.{name}: at most {cap} bytes on this server")
            out[name] = size
    return out


@router.post(
    "",
    response_model=RunOut,
    responses=error_responses(400, 401, 403, 413, 422, 429, 503, 504),
    summary="Run a program once in the sandbox and return its result",
)
async def create_run(
    body: RunIn, request: Request, response: Response, user: CurrentUser
) -> RunOut:
    """A worker runs it (this server never runs the sandbox): 503 when the queue is full or the
    broker is down, 504 when no worker answered within ``JUDGE_WAIT_TIMEOUT`` seconds."""
    state = app_state(request)
    if len(body.source.encode()) > state.settings.max_source_bytes:
        raise ApiError(413, f"source is larger than {state.settings.max_source_bytes} bytes")
    if len(body.stdin.encode()) > state.settings.run_maxima.output:
        raise ApiError(413, "stdin is too large")
    limits = checked_limits(body, request)
    grading.check_language(body.language)
    check_rate(state, user)
    with state.sessions() as session:
        unfinished = state.fairness.unfinished_submissions(session, user.id)
    cpu = float(limits.get("cpu_time", DEFAULT_CPU_TIME))
    with state.fairness.run(user.id, cpu, unfinished):
        run_id, result = await grading.run(
            body.language, body.source, body.stdin, limits,
            timeout=max(state.settings.wait_timeout, MIN_WAIT),
            max_queued=state.settings.max_queued,
        )  # fmt: skip
    response.headers["X-Run-Id"] = run_id  # the worker logs it too: "run <id>: <verdict>"
    return result
