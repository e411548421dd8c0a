"""``/api/batches`` (admins): grade many submissions of one problem, follow them, get results.

``POST /api/batches`` takes JSON ``{problem, language?, submissions: [{name, language?, source}]}``
or a multipart form with ``problem``, optional ``language`` and a zip in ``archive`` whose files
are ``<name>.<ext>``. Everything goes to the ``batch`` queue, behind interactive submissions.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from web import batch_io
from web.api.submissions import callback_token, callback_url
from web.batch_io import BatchIn, BatchOut, BatchSummary, ResultOut
from web.deps import DB, AdminUser, AppState, RowId, app_state
from web.errors import ApiError
from web.schemas import error_responses

router = APIRouter(prefix="/api/batches", tags=["batches"])
_ERRORS = error_responses(400, 401, 403, 404, 413, 422)

_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BatchIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["problem", "archive"],
                    "properties": {
                        "problem": {"type": "string", "description": "problem slug"},
                        "language": {
                            "type": "string",
                            "description": "for every file; default: from each file's extension",
                        },
                        "callback_url": {
                            "type": "string",
                            "description": "POSTed a signed batch.finished webhook at the end",
                        },
                        "as_accounts": {
                            "type": "boolean",
                            "description": "a file named after an account (alice.py) is alice's",
                        },
                        "archive": {
                            "type": "string",
                            "format": "binary",
                            "description": "a zip of <name>.<ext> files, one per submission",
                        },
                    },
                }
            },
        },
    }
}


async def create_from_form(state: AppState, request: Request, owner: int) -> int:
    """The multipart path, shared with the admin page's upload form (CSRF checked there)."""
    form = await request.form(max_files=1, max_fields=20)
    problem = str(form.get("problem", "") or "").strip()
    language = str(form.get("language", "") or "").strip() or None
    as_accounts = str(form.get("as_accounts", "") or "") in ("on", "true", "1")
    url = str(form.get("callback_url", "") or "").strip()
    callback = (callback_url(url), callback_token(request)) if url else None
    archive = form.get("archive")
    if not problem:
        raise ApiError(422, "'problem' is required")
    if not isinstance(archive, UploadFile):
        raise ApiError(422, "'archive' must be a zip file of <name>.<ext> files")
    data = await archive.read()
    max_bytes = state.settings.max_source_bytes
    entries = await run_in_threadpool(batch_io.entries_from_zip, data, language, max_bytes)

    def save() -> int:
        with state.sessions() as session:
            return batch_io.create(session, problem, language, entries, owner,
                                   as_accounts=as_accounts, callback=callback)  # fmt: skip

    return await run_in_threadpool(save)


@router.post(
    "",
    status_code=201,
    response_model=BatchOut,
    responses=_ERRORS,
    openapi_extra=_BATCH_BODY,
    summary="Grade many submissions of one problem (JSON list, or a zip of <name>.<ext> files)",
)
async def create_batch(request: Request, admin: AdminUser) -> BatchOut:
    state = app_state(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        batch_id = await create_from_form(state, request, admin.id)
    else:
        raw = await request.body()
        try:
            # A thread: a big batch's JSON must not hold the event loop (every request).
            body = await run_in_threadpool(BatchIn.model_validate_json, raw)
        except ValidationError as e:
            if any(err.get("type") == "json_invalid" for err in e.errors()):
                raise ApiError(400, "the request body is not valid JSON") from None
            slim = [{k: err[k] for k in ("loc", "msg", "type") if k in err} for err in e.errors()]
            raise ApiError(422, slim) from None
        entries = batch_io.entries_from_json(body, state.settings.max_source_bytes)
        callback = None
        if body.callback_url:
            callback = (callback_url(body.callback_url), callback_token(request))

        def save() -> int:
            with state.sessions() as session:
                return batch_io.create(session, body.problem, body.language, entries, admin.id,
                                       as_accounts=body.as_accounts, callback=callback)  # fmt: skip

        batch_id = await run_in_threadpool(save)

    def read() -> BatchOut:
        with state.sessions() as session:
            return batch_io.out(session, batch_io.load(session, batch_id))

    return await run_in_threadpool(read)


@router.get("", response_model=list[BatchSummary], responses=_ERRORS, summary="Recent batches")
def list_batches(session: DB, admin: AdminUser) -> list[BatchSummary]:
    return batch_io.recent(session)


@router.get("/{batch_id}", response_model=BatchOut, responses=_ERRORS, summary="Progress and items")
def get_batch(batch_id: RowId, session: DB, admin: AdminUser) -> BatchOut:
    return batch_io.out(session, batch_io.load(session, batch_id))


@router.get(
    "/{batch_id}/results.json",
    response_model=list[ResultOut],
    responses=_ERRORS,
    summary="Results with per-test verdicts, one row per item",
)
def results_json(batch_id: RowId, session: DB, admin: AdminUser) -> list[ResultOut]:
    return batch_io.results(session, batch_io.load(session, batch_id))


@router.get(
    "/{batch_id}/results.csv",
    responses={200: {"content": {"text/csv": {}}}, **_ERRORS},
    summary="Results as CSV: name, verdict, score, time, memory, tests, error",
)
def results_csv(batch_id: RowId, session: DB, admin: AdminUser) -> Response:
    rows = batch_io.results(session, batch_io.load(session, batch_id))
    return Response(
        batch_io.results_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}.csv"'},
    )


@router.post(
    "/{batch_id}/cancel",
    response_model=BatchOut,
    responses=_ERRORS,
    summary="Stop a batch: queued items are not graded; running ones finish",
)
def cancel_batch(batch_id: RowId, session: DB, admin: AdminUser) -> BatchOut:
    batch_io.cancel(session, batch_id)
    session.expire_all()
    return batch_io.out(session, batch_io.load(session, batch_id))
