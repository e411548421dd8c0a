"""The Judge0 CE 1.13.1 endpoints: a thin translation over the judge's store and workers.

A submission is a ``judge0_submissions`` row committed before its wake-up is sent (DESIGN 6);
a worker (worker.judge0) runs it on the interactive queue beside ``/api/runs`` and stores the
result, so a token can be read at any later time, across restarts.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update

from store import Status, Submission, webhooks
from store.models import Judge0Submission
from store.types import utcnow
from web import grading
from web.deps import AppState, app_state
from web.judge0 import config, languages, serialize, statuses, validate
from web.judge0.auth import Caller, Judge0Error, caller
from worker.judge0_status import UNFINISHED as J0_UNFINISHED

log = logging.getLogger("web")

Who = Annotated[Caller, Depends(caller)]


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name) == "true"  # Judge0 takes exactly "true"


def _fields(request: Request) -> list[str]:
    fields, invalid = serialize.requested(request.query_params.get("fields"))
    if invalid:
        raise Judge0Error(400, {"error": f"invalid fields: [{', '.join(invalid)}]"})
    return fields


def _visible(row: Judge0Submission | None, who: Caller) -> bool:
    # A token is a capability in Judge0; here it also has an owner: theirs and admins only.
    return row is not None and (who.admin or row.user_id is None or row.user_id == who.user_id)


def _check_room(state: AppState, who: Caller, count: int) -> None:
    """503 when the queue is full; 429 beyond the caller's share (web.fairness)."""
    settings = state.settings
    with state.sessions() as s:
        queued = s.scalar(
            select(func.count()).select_from(Judge0Submission)
            .where(Judge0Submission.status_id == J0_UNFINISHED[0])
        ) or 0  # fmt: skip
        queued += s.scalar(
            select(func.count()).select_from(Submission)
            .where(Submission.status == Status.QUEUED, Submission.queue == "interactive")
        ) or 0  # fmt: skip
        if queued + count > settings.max_queued:
            raise Judge0Error(503, {"error": "queue is full"}, {"Retry-After": "10"})
        mine = s.scalar(
            select(func.count()).select_from(Judge0Submission)
            .where(Judge0Submission.user_id.is_(who.user_id) if who.user_id is None
                   else Judge0Submission.user_id == who.user_id,
                   Judge0Submission.status_id.in_(J0_UNFINISHED))
        ) or 0  # fmt: skip
        if who.user_id is not None:
            mine += state.fairness.unfinished_submissions(s, who.user_id)
    if mine + count > settings.max_unfinished:
        raise Judge0Error(429, {"error": f"you have {mine} submissions unfinished; at most "
                                         f"{settings.max_unfinished} at once"},
                          {"Retry-After": "5"})  # fmt: skip
    for _ in range(count):
        wait = state.limiter.hit(who.user_id or 0)
        if wait is not None:
            raise Judge0Error(429, {"error": f"at most {state.limiter.limit} submissions per "
                                             f"{state.limiter.window:g} s"},
                              {"Retry-After": state.limiter.retry_after(wait)})  # fmt: skip


def _store(state: AppState, who: Caller, parsed: list[validate.Parsed]) -> list[tuple[int, str]]:
    """Commit the rows, then wake a worker for each: [(row id, token)]."""
    now = utcnow()
    rows = [
        Judge0Submission(
            token=str(uuid.uuid4()), user_id=who.user_id, token_id=who.token_id,
            language_id=p.language_id,
            language=p.language, source_code=p.source, stdin=p.stdin,
            expected_output=p.expected, additional_files=p.zip, options=p.options,
            status_id=J0_UNFINISHED[0], created_at=now, enqueued_at=now,
        )
        for p in parsed
    ]  # fmt: skip
    with state.sessions.begin() as s:
        if who.token_id is not None and any(p.options.get("callback_url") for p in parsed):
            webhooks.secret_of(s, who.token_id)  # the worker signs the callback with it
        s.add_all(rows)
        s.flush()
        made = [(r.id, r.token) for r in rows]
    for row_id, token in made:
        try:
            grading.send_judge0(row_id)
        except Exception as e:  # the row is the job: the sweeper sends the wake-up again
            log.warning("judge0 %s: could not enqueue (the sweeper will): %s", token, e)
            with state.sessions.begin() as s:
                s.execute(
                    update(Judge0Submission)
                    .where(Judge0Submission.id == row_id)
                    .values(enqueued_at=now - timedelta(days=1))
                )
    return made


def _load(state: AppState, tokens: list[str]) -> dict[str, Judge0Submission]:
    with state.sessions() as s:
        rows = s.scalars(select(Judge0Submission).where(Judge0Submission.token.in_(tokens)))
        return {r.token: r for r in rows}


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        raise Judge0Error(400, {"error": "the request body is not valid JSON"}) from None


def router() -> APIRouter:
    r = APIRouter(tags=["judge0"])

    @r.get("/about", summary="Judge0 CE version this API answers as")
    def about(who: Who) -> JSONResponse:
        return _json({
            "version": "1.13.1",
            "homepage": "https://judge0.com",
            "source_code": "https://github.com/judge0/judge0",
            "maintainer": "this judge's administrator (Judge0-compatible API of judge-sandbox)",
        })  # fmt: skip

    @r.get("/config_info", summary="Judge0 configuration: limits and features")
    def config_info(request: Request, who: Who) -> JSONResponse:
        return _json(config.config_info(app_state(request).settings))

    @r.get("/languages", summary="Languages this host has, by Judge0 CE id")
    def list_languages(who: Who) -> JSONResponse:
        return _json(languages.listing())

    @r.get("/languages/{language_id}", summary="One language")
    def get_language(language_id: str, who: Who) -> JSONResponse:
        digits = language_id.isascii() and language_id.isdigit()
        lang = languages.installed(int(language_id)) if digits else None
        if lang is None:
            raise Judge0Error(404, {"error": f"language with id {language_id} doesn't exist"})
        return _json(languages.detail(lang))

    @r.get("/statuses", summary="Judge0 status ids")
    def list_statuses(who: Who) -> JSONResponse:
        return _json(statuses.listing())

    @r.post("/submissions", summary="Create a submission (wait=true: answer with its result)")
    async def create(request: Request, who: Who) -> JSONResponse:
        state = app_state(request)
        encoded, wait = _flag(request, "base64_encoded"), _flag(request, "wait")
        fields = _fields(request)
        body = await _body(request)
        parsed = await run_in_threadpool(
            validate.parse, body, encoded=encoded, settings=state.settings
        )
        if isinstance(parsed, dict):
            return _json(parsed, 422)
        await run_in_threadpool(_check_room, state, who, 1)
        [(_, token)] = await run_in_threadpool(_store, state, who, [parsed])
        if not wait:
            return _json({"token": token}, 201)
        await grading.wait_judge0([token], max(state.settings.wait_timeout, 1.0))
        row = (await run_in_threadpool(_load, state, [token]))[token]
        try:
            return _json(serialize.one(row, fields, encoded=encoded), 201)
        except serialize.NotUtf8:
            return _json({"token": token, "error": serialize.NOT_UTF8}, 201)

    @r.post("/submissions/batch", summary="Create up to 20 submissions")
    async def create_batch(request: Request, who: Who) -> JSONResponse:
        state = app_state(request)
        encoded = _flag(request, "base64_encoded")
        body = await _body(request)
        items = body.get("submissions") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise Judge0Error(400, {"error": "there should be at least one submission in a batch"})
        if len(items) > config.MAX_BATCH:
            raise Judge0Error(400, {"error": "number of submissions in a batch should be less "
                                             f"than or equal to {config.MAX_BATCH}"})  # fmt: skip
        results = await run_in_threadpool(
            lambda: [validate.parse(i, encoded=encoded, settings=state.settings) for i in items]
        )
        good = [p for p in results if isinstance(p, validate.Parsed)]
        if not good:
            return _json(results, 422)
        await run_in_threadpool(_check_room, state, who, len(good))
        made = iter(await run_in_threadpool(_store, state, who, good))
        out = [{"token": next(made)[1]} if isinstance(p, validate.Parsed) else p for p in results]
        return _json(out, 201)

    @r.get("/submissions/batch", summary="Read up to 20 submissions by token")
    def get_batch(request: Request, who: Who) -> JSONResponse:
        state = app_state(request)
        fields, encoded = _fields(request), _flag(request, "base64_encoded")
        raw = request.headers.get("tokens") or request.query_params.get("tokens") or ""
        tokens = [t for t in raw.strip().split(",") if t]
        if not tokens:
            raise Judge0Error(400, {"error": "there should be at least one submission in a batch"})
        if len(tokens) > config.MAX_BATCH:
            raise Judge0Error(400, {"error": "number of submissions in a batch should be less "
                                             f"than or equal to {config.MAX_BATCH}"})  # fmt: skip
        rows = _load(state, tokens)
        try:
            out = [
                serialize.one(rows[t], fields, encoded=encoded) if _visible(rows.get(t), who)
                else None
                for t in tokens
            ]  # fmt: skip
        except serialize.NotUtf8:
            raise Judge0Error(
                400,
                {
                    "error": "some attributes for one or more submissions "
                    "cannot be converted to UTF-8, use "
                    "base64_encoded=true query parameter"
                },
            ) from None
        return _json({"submissions": out})

    @r.get("/submissions/{token}", summary="Read a submission")
    def get_one(token: str, request: Request, who: Who) -> JSONResponse:
        fields, encoded = _fields(request), _flag(request, "base64_encoded")
        row = _load(app_state(request), [token]).get(token)
        if row is None or not _visible(row, who):
            raise Judge0Error(404, {"error": "submission not found"})
        try:
            return _json(serialize.one(row, fields, encoded=encoded))
        except serialize.NotUtf8:
            raise Judge0Error(400, {"error": serialize.NOT_UTF8}) from None

    @r.delete("/submissions/{token}", summary="Delete a finished submission (admins)")
    def delete(token: str, request: Request, who: Who) -> JSONResponse:
        if not who.admin:
            raise Judge0Error(403, {"error": "only admins may delete submissions"})
        fields = _fields(request)
        state = app_state(request)
        with state.sessions.begin() as s:
            row = s.scalars(select(Judge0Submission).where(Judge0Submission.token == token)).first()
            if row is None:
                raise Judge0Error(404, {"error": "submission not found"})
            if row.status_id in J0_UNFINISHED:
                name = statuses.of(row.status_id)["description"]
                raise Judge0Error(
                    400,
                    {
                        "error": "submission cannot be deleted because its "
                        f"status is {row.status_id} ({name})"
                    },
                )
            # Base64 whatever was asked: the data must reach the client after the delete.
            body = serialize.one(row, fields, encoded=True)
            s.delete(row)
        return _json(body)

    return r
