"""Admin pages of one problem: create and edit (a form that keeps what was typed when it is
refused), visibility, delete, export, statement preview."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.datastructures import FormData, UploadFile

import store
from store import Problem, TestCase
from store.types import utcnow
from web import problem_export, problem_io
from web.api.problems import find
from web.deps import DB, AdminUser, app_state
from web.errors import ApiError
from web.pages.render import checked_form, markdown, redirect, render

router = APIRouter(prefix="/admin/problems", include_in_schema=False)

VISIBILITIES = ("public", "hidden", "draft")


def _edit_page(
    request: Request, admin: AdminUser, p: dict[str, Any] | None, *, editing: bool,
    tests: list[dict[str, Any]] | None = None, error: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    ctx = {"p": p, "editing": editing, "tests": tests or [], "error": error,
           "visibilities": VISIBILITIES}  # fmt: skip
    return render(request, "admin/problem_edit.html", ctx, user=admin, status=status)


def _test_list(session: DB, problem: Problem) -> list[dict[str, Any]]:
    """Each test's number, name, sizes and sample flag: lengths from the database, not the data."""
    rows = session.execute(
        select(TestCase.index, TestCase.name, TestCase.group, TestCase.points, TestCase.sample,
               func.length(TestCase.input), func.length(TestCase.output))
        .where(TestCase.problem_id == problem.id)
        .order_by(TestCase.index)
    )  # fmt: skip
    keys = ("index", "name", "group", "points", "sample", "input_size", "output_size")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@router.get("/new")
def new_problem(request: Request, admin: AdminUser) -> Response:
    return _edit_page(request, admin, None, editing=False)


@router.get("/{slug}/edit")
def edit_problem(request: Request, slug: str, session: DB, admin: AdminUser) -> Response:
    problem = find(session, slug)
    p = store.problem_to_dict(problem, with_tests=False)
    p["visibility"] = problem.visibility
    return _edit_page(request, admin, p, editing=True, tests=_test_list(session, problem))


def _problem_from_form(form: FormData, existing: dict[str, Any] | None) -> dict[str, Any]:
    def number(name: str, default: float) -> float:
        raw = str(form.get(name, "") or "").strip()
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ApiError(422, f"{name}: a number is expected") from None

    checker: dict[str, Any] = {"type": str(form.get("checker", "tokens"))}
    if checker["type"] == "float":
        checker.update(abs=number("abs", 1e-6), rel=number("rel", 1e-6))
    data: dict[str, Any] = {
        "slug": str(form.get("slug", "")).strip(),
        "title": str(form.get("title", "")).strip(),
        "statement": str(form.get("statement", "")),
        "time_limit": number("time_limit", 1.0),
        "memory_limit": str(form.get("memory_limit", "256M")).strip() or "256M",
        "checker": checker,
        "stop_on_failure": form.get("stop_on_failure") == "on",
    }
    if existing is not None:
        data["tests"] = existing["tests"]
        for key in ("interactor", "scoring", "limits", "package", "input_validators",
                    "test_details", "files", "submissions"):  # fmt: skip
            if existing.get(key):
                data[key] = existing[key]
        if existing["checker"].get("type") == "custom" and checker["type"] == "custom":
            data["checker"] = existing["checker"]
    return data


def _as_stored(problem: Problem) -> dict[str, Any]:
    """The problem's JSON form with its tests and files as the bytes they are: the JSON form
    decodes test data as text, and a binary test edited through this page would change."""
    out = store.problem_to_dict(problem, with_tests=False)
    out["tests"] = [
        {"input": t.input, "output": t.output, "group": t.group, "points": t.points,
         "sample": t.sample, **({"name": t.name} if t.name else {})}
        for t in problem.tests
    ]  # fmt: skip
    if problem.files:
        out["files"] = {f.name: {"base64": base64.b64encode(f.data).decode()} for f in problem.files}
    # And the package's own submissions, which verify grades: saving must not drop them.
    out["submissions"] = [
        {"name": p.name, "language": p.language, "source": p.source, "files": p.files,
         "expected": list(p.expected), "expected_score": p.expected_score}
        for p in problem.submissions_shipped
    ]  # fmt: skip
    return out


def _typed(form: FormData) -> dict[str, Any]:
    """What the admin typed, for the form shown again with its error."""
    p: dict[str, Any] = {k: str(form.get(k, "") or "") for k in
                         ("slug", "title", "statement", "time_limit", "memory_limit",
                          "visibility")}  # fmt: skip
    p["checker"] = {"type": str(form.get("checker", "tokens")),
                    "abs": str(form.get("abs", "1e-6")), "rel": str(form.get("rel", "1e-6"))}  # fmt: skip
    p["stop_on_failure"] = form.get("stop_on_failure") == "on"
    return p


@router.post("")
async def save_problem(request: Request, admin: AdminUser) -> Response:
    state = app_state(request)
    form = await checked_form(request, max_part_size=16 << 20)
    original = str(form.get("original_slug", "") or "")
    visibility = str(form.get("visibility", "public"))

    def existing() -> dict[str, Any] | None:
        if not original:
            return None
        with state.sessions() as session:
            return _as_stored(find(session, original, with_tests=True))

    try:
        if visibility not in VISIBILITIES:
            raise ApiError(422, f"visibility: one of {', '.join(VISIBILITIES)}")
        data = _problem_from_form(form, await run_in_threadpool(existing))
        upload = form.get("tests")
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read()
            if raw[:2] == b"PK":
                data["tests"] = await run_in_threadpool(problem_io.tests_from_zip, raw)
            else:
                data["tests"] = problem_io.tests_from_json(raw)
        if "tests" not in data:
            raise ApiError(422, "a new problem needs tests: upload a zip of N.in/N.out or JSON")

        def save() -> str:
            with state.sessions() as session:
                problem = problem_io.save_problem(session, data)
                problem.visibility = visibility
                session.commit()
                return problem.slug

        slug = await run_in_threadpool(save)
    except ApiError as e:
        if e.status >= 500:
            raise
        # The form again, with what was typed and the reason beside it: not a dead end.
        return _edit_page(request, admin, _typed(form), editing=bool(original),
                          error=str(e.detail), status=e.status)  # fmt: skip
    return redirect(f"/problems/{slug}")


@router.post("/{slug}/visibility")
async def set_visibility(request: Request, slug: str, session: DB, admin: AdminUser) -> Response:
    form = await checked_form(request)
    visibility = str(form.get("visibility", ""))
    if visibility not in VISIBILITIES:
        raise ApiError(422, f"visibility: one of {', '.join(VISIBILITIES)}")
    find(session, slug).visibility = visibility
    session.commit()
    return redirect("/admin")


@router.post("/{slug}/delete")
async def delete_problem(request: Request, slug: str, session: DB, admin: AdminUser) -> Response:
    """Gone for everyone; the row stays so its submissions keep their history. The slug is
    freed for a new problem: the deleted one takes a name no slug can have (with '~')."""
    await checked_form(request)
    problem = find(session, slug)
    problem.deleted_at = utcnow()
    problem.slug = f"{problem.slug}~{problem.id}"[:64]
    session.commit()
    return redirect("/admin")


@router.get("/{slug}/export")
def export_problem(slug: str, session: DB, admin: AdminUser) -> Response:
    """The problem as a zip that `judge problem import` and the API take back unchanged."""
    data = problem_export.export_zip(find(session, slug, with_tests=True))
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{slug}.zip"'})  # fmt: skip


@router.post("/preview", response_class=HTMLResponse)
async def preview_statement(request: Request, admin: AdminUser) -> Response:
    """The statement as the problem page will show it (same renderer, same sanitising)."""
    form = await checked_form(request, max_part_size=1 << 20)
    return HTMLResponse(str(markdown(str(form.get("statement", "")))))
