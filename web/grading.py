"""The web's one doorway into the worker package: submit, rejudge, languages, ad-hoc runs.

Everything the web asks of grading goes through here, so the HTTP layer sees ApiError and plain
data, never worker exceptions, and a change in the worker's API is a change in one file.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

import worker
from store import User
from web.errors import ApiError
from web.schemas import RunOut

# Ad-hoc runs execute in this process (see run()); two at a time keeps the web responsive on a
# small machine, and the rest wait their turn on the event loop, not on threads.
_RUN_SLOTS = asyncio.Semaphore(2)


@functools.cache
def languages() -> tuple[dict[str, str], ...]:
    # Toolchains do not appear or vanish while the server runs; looking once is enough.
    return tuple(worker.languages.describe())


def language_ids() -> frozenset[str]:
    return frozenset(lang["id"] for lang in languages())


def check_language(language: str) -> None:
    if language not in language_ids():
        raise ApiError(422, f"unknown language {language!r}; see GET /api/languages")


def submit(session: Session, slug: str, language: str, source: str, user: User) -> int:
    try:
        # By id: the User may belong to the request's other session.
        return worker.submit(session, slug, language, source, user=user.id)
    except worker.UnknownProblem as e:
        raise ApiError(404, str(e)) from None
    except worker.SubmitError as e:
        raise ApiError(422, str(e)) from None


def rejudge_problem(session: Session, slug: str) -> list[int]:
    try:
        return worker.rejudge_problem(session, slug)
    except worker.UnknownProblem as e:
        raise ApiError(404, str(e)) from None


def rejudge(session: Session, ids: list[int]) -> list[int]:
    return worker.rejudge(session, ids)


async def run(language: str, source: str, stdin: str, limits: Mapping[str, Any]) -> RunOut:
    """One sandboxed run, synchronous for the caller.

    The worker package has no task for ad-hoc runs yet (and no result backend to answer
    through), so the run happens here on a pool thread, in the sandbox like every run.
    """
    check_language(language)
    async with _RUN_SLOTS:
        try:
            shot = await run_in_threadpool(worker.run_once, language, source, stdin, limits)
        except worker.InternalError as e:
            raise ApiError(503, f"the sandbox failed: {e}", headers={"Retry-After": "5"}) from None
        except ValueError as e:  # unknown language, bad limits
            raise ApiError(422, str(e)) from None
    r = shot.result
    if r is None:
        return RunOut(status="compile_error", verdict="CE", compile_output=shot.compile_output,
                      exit_code=None, signal=None, cpu_time=None, wall_time=None, memory=None,
                      oom_killed=False, stdout="", stderr="", message="compilation failed")  # fmt: skip
    return RunOut(
        status="done",
        verdict=str(r.verdict),
        compile_output=shot.compile_output or None,
        exit_code=r.exit_code,
        signal=r.signal,
        cpu_time=r.cpu_time,
        wall_time=r.wall_time,
        memory=r.memory_peak,
        oom_killed=r.oom_killed,
        stdout=r.stdout.decode("utf-8", "replace"),
        stderr=r.stderr.decode("utf-8", "replace"),
        message=r.message,
    )
