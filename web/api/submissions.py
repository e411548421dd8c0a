"""``/api/submissions``: submit, read one (optionally waiting for the verdict), list mine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from store import Status, Submission, User, webhooks
from store.formats.common import entry_point
from store.vocab import FINISHED
from web import grading, visibility
from web.api.problems import find
from web.deps import DB, AppState, CurrentUser, RowId, app_state, reviews
from web.errors import ApiError
from web.schemas import (
    SubmissionCreated,
    SubmissionIn,
    SubmissionOut,
    SubmissionSummary,
    error_responses,
)

router = APIRouter(prefix="/api/submissions", tags=["submissions"])

_ERRORS = error_responses(400, 401, 403, 404, 413, 422, 429, 503)


def check_can_submit(state: AppState, session: Session, user: User, source: str) -> None:
    """The checks shared by the API and the form: size, rate, queue room. Raises ApiError."""
    settings = state.settings
    if len(source.encode()) > settings.max_source_bytes:
        raise ApiError(413, f"source is larger than {settings.max_source_bytes} bytes")
    # Only the interactive queue: a 5000-submission batch must not lock students out.
    queued = session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.status == Status.QUEUED, Submission.queue == "interactive")
    )
    if (queued or 0) >= settings.max_queued:
        raise ApiError(503, "the queue is full; try again shortly", headers={"Retry-After": "10"})
    state.fairness.check_submission(session, user.id)
    check_rate(state, user)


def check_rate(state: AppState, user: User) -> None:
    wait = state.limiter.hit(user.id)
    if wait is not None:
        raise ApiError(
            429,
            f"at most {state.limiter.limit} submissions per {state.limiter.window:g} s",
            headers={"Retry-After": state.limiter.retry_after(wait)},
        )


def create_submission(
    state: AppState,
    session: Session,
    user: User,
    slug: str,
    language: str,
    source: str,
    files: Mapping[str, str] | None = None,
    callback: tuple[str, int] | None = None,
) -> int:
    """Validate, store, and wake a worker; ApiError for anything the caller got wrong.
    ``callback``: (URL, token id) of the verdict's webhook, checked by the caller."""
    find(session, slug, viewer=user)  # 404 for a draft, a deleted or an unknown problem
    grading.check_language(language)
    others = dict(files or {})
    if not source and others:
        entry = entry_point(others, language)
        source = others.pop(entry)
    if not source:
        raise ApiError(422, "source is empty")
    if "\x00" in source or any("\x00" in t for t in others.values()):
        raise ApiError(422, "source contains a NUL character")
    check_can_submit(state, session, user, source + "".join(others.values()))
    return grading.submit(session, slug, language, source, user, others or None, callback)


def callback_url(url: str) -> str:
    """The URL if the judge may call it (store.webhooks: no internal address); 422 if not."""
    try:
        webhooks.check(url, webhooks.allowed_networks())
    except webhooks.Refused as e:
        raise ApiError(422, str(e)) from None
    return url


def callback_token(request: Request) -> int:
    """The bearer token of the request, whose secret will sign the webhook (made now)."""
    token_id = getattr(request.state, "token_id", None)
    if token_id is None:
        raise ApiError(422, "callback_url needs an API token (its secret signs the webhook)")
    with app_state(request).sessions.begin() as s:
        webhooks.secret_of(s, token_id)
    return int(token_id)


def load(session: Session, submission_id: int) -> Submission | None:
    return session.scalars(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(
            selectinload(Submission.results),
            selectinload(Submission.history),
            selectinload(Submission.problem),
            selectinload(Submission.user),
        )
    ).first()


def visible(sub: Submission, user: User | None) -> bool:
    return user is not None and (reviews(user) or sub.user_id == user.id)


def _read(state: AppState, submission_id: int, user: User) -> SubmissionOut:
    with state.sessions() as session:
        sub = load(session, submission_id)
        if sub is None or not visible(sub, user):
            # Someone else's submission is reported as absent: ids must not leak others' work.
            raise ApiError(404, f"no submission {submission_id} of yours")
        return SubmissionOut.of(
            sub, with_source=True, viewer=visibility.viewer_for(session, sub, user)
        )


@router.post(
    "",
    status_code=202,
    response_model=SubmissionCreated | SubmissionOut,
    responses=_ERRORS,
    summary="Submit a solution",
)
async def submit(
    body: SubmissionIn,
    request: Request,
    response: Response,
    user: CurrentUser,
    wait: Annotated[
        bool, Query(description="answer only when graded (or after a timeout)")
    ] = False,
) -> SubmissionCreated | SubmissionOut:
    state = app_state(request)

    def create() -> int:
        callback = None
        if body.callback_url:
            callback = (callback_url(body.callback_url), callback_token(request))
        with state.sessions() as session:
            return create_submission(
                state, session, user, body.problem, body.language, body.source, body.files,
                callback,
            )

    submission_id = await run_in_threadpool(create)
    if not wait:
        return SubmissionCreated(id=submission_id, status=str(Status.QUEUED))
    out = await wait_for(state, submission_id, user)
    if out.status in FINISHED:
        response.status_code = 200
    return out


async def wait_for(state: AppState, submission_id: int, user: User) -> SubmissionOut:
    """Poll the row until it is finished or the wait times out.

    The waiting is an asyncio sleep, so a thousand waiting clients cost a thousand small
    coroutines, not a thousand threads; each poll borrows a pool thread for one short query.
    """
    deadline = time.monotonic() + state.settings.wait_timeout
    delay = 0.05
    while True:
        out = await run_in_threadpool(_read, state, submission_id, user)
        if out.status in FINISHED or time.monotonic() >= deadline:
            return out
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)


@router.get(
    "/{submission_id}", response_model=SubmissionOut, responses=_ERRORS, summary="One submission"
)
async def get_submission(
    submission_id: RowId,
    request: Request,
    user: CurrentUser,
    wait: Annotated[
        bool, Query(description="answer only when graded (or after a timeout)")
    ] = False,
) -> SubmissionOut:
    state = app_state(request)
    if wait:
        return await wait_for(state, submission_id, user)
    return await run_in_threadpool(_read, state, submission_id, user)


@router.get("", response_model=list[SubmissionSummary], responses=_ERRORS, summary="My submissions")
def list_submissions(
    session: DB,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    everyone: Annotated[bool, Query(description="admins: everyone's submissions")] = False,
) -> list[SubmissionSummary]:
    query = (
        select(Submission)
        .options(selectinload(Submission.problem), selectinload(Submission.user))
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    if not (everyone and reviews(user)):
        query = query.where(Submission.user_id == user.id)
    return [SubmissionSummary.of(s, admin=reviews(user)) for s in session.scalars(query)]
