"""Problem set pages: the list of sets, a set with its problems and live standings, and the
admin form that creates or changes one (an error keeps everything typed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from store import Problem, utcnow
from store import problem_sets as sets
from store.models import ProblemSet
from web import standings
from web.api import sets as api_sets
from web.deps import DB, AdminUser, MaybeUser, app_state
from web.pages.render import checked_form, redirect, render
from web.set_schemas import SetIn

router = APIRouter(include_in_schema=False)

#: The form's field names, in the order the form shows them.
FIELDS = ("slug", "title", "problems", "starts_at", "ends_at", "late_policy", "style",
          "freeze_minutes", "everyone", "members")  # fmt: skip


@router.get("/sets")
def set_list(request: Request, session: DB, user: MaybeUser) -> Response:
    now = utcnow()
    rows = [api_sets.set_out(p, user, now) for p in sets.visible_sets(session, user)]
    return render(request, "sets.html", {"sets": rows}, user=user)


@router.get("/sets/{slug}")
def set_page(request: Request, slug: str, session: DB, user: MaybeUser) -> Response:
    pset = api_sets.find(session, slug, user)
    now = utcnow()
    ctx = {
        "pset": api_sets.set_out(pset, user, now),
        "standings": api_sets.standings_for(session, pset, user, now),
        "member": sets.is_member(pset, user),
        "freeze_at": standings.Rules(pset.style, pset.starts_at, pset.ends_at,
                                     pset.freeze_minutes).freeze_at,
    }
    return render(request, "set.html", ctx, user=user)


@router.get("/admin/sets/new")
def new_set(request: Request, session: DB, admin: AdminUser) -> Response:
    values = {"late_policy": "late", "style": "ioi", "freeze_minutes": "0"}
    return _form(request, session, admin, values, None, None)


@router.get("/admin/sets/{slug}/edit")
def edit_set(request: Request, slug: str, session: DB, admin: AdminUser) -> Response:
    return _form(request, session, admin, _values(api_sets.find(session, slug, admin)), slug, None)


@router.post("/admin/sets")
async def save_set(request: Request, admin: AdminUser) -> Response:
    state = app_state(request)
    form = await checked_form(request, max_fields=len(FIELDS) + 4)
    values = {name: str(form.get(name, "") or "") for name in FIELDS}
    original = str(form.get("original_slug", "") or "") or None

    def save() -> str | None:
        with state.sessions() as session:
            try:
                pset = sets.save(session, _parse(form).data(), original)
            except (sets.SetError, ValueError) as e:
                request.state.form_error = _message(e)
                return None
            session.commit()
            return pset.slug

    slug = await run_in_threadpool(save)
    if slug is not None:
        return redirect(f"/sets/{slug}")
    with state.sessions() as session:
        return _form(request, session, admin, values, original, request.state.form_error)


@router.post("/admin/sets/{slug}/delete")
async def delete_set(request: Request, slug: str, admin: AdminUser) -> Response:
    state = app_state(request)
    await checked_form(request, max_fields=2)

    def delete() -> None:
        with state.sessions() as session:
            session.delete(api_sets.find(session, slug, admin))
            session.commit()

    await run_in_threadpool(delete)
    return redirect("/sets")


def _form(request: Request, session: Any, admin: Any, values: dict[str, str],
          original: str | None, error: str | None) -> Response:  # fmt: skip
    problems = session.execute(select(Problem.slug, Problem.title).order_by(Problem.slug)).all()
    ctx = {"v": values, "original": original, "error": error, "all_problems": problems,
           "error_field": _field_of(error) if error else None}  # fmt: skip
    return render(request, "admin/set_edit.html", ctx, user=admin,
                  status=422 if error else 200)  # fmt: skip


def _values(pset: ProblemSet) -> dict[str, str]:
    def when(t: datetime | None) -> str:
        return "" if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    return {
        "slug": pset.slug, "title": pset.title,
        "problems": "\n".join(p.problem.slug for p in pset.problems),
        "starts_at": when(pset.starts_at), "ends_at": when(pset.ends_at),
        "late_policy": pset.late_policy, "style": pset.style,
        "freeze_minutes": str(pset.freeze_minutes), "everyone": "on" if pset.everyone else "",
        "members": "\n".join(sorted(m.user.name for m in pset.members)),
    }  # fmt: skip


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", text) if w]


def _when(form: FormData, name: str) -> datetime | None:
    """A datetime-local field, read as UTC (the form says so)."""
    raw = str(form.get(name, "") or "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{name.removesuffix('_at')}: a date and time is expected") from None


def _parse(form: FormData) -> SetIn:
    freeze = str(form.get("freeze_minutes", "") or "0").strip()
    if not freeze.isdigit():
        raise ValueError("freeze: a whole number of minutes")
    return SetIn(
        slug=str(form.get("slug", "")).strip(), title=str(form.get("title", "")).strip(),
        problems=_words(str(form.get("problems", ""))),
        starts_at=_when(form, "starts_at"), ends_at=_when(form, "ends_at"),
        late_policy=str(form.get("late_policy", "late")),  # type: ignore[arg-type]
        style=str(form.get("style", "ioi")),  # type: ignore[arg-type]
        freeze_minutes=int(freeze), everyone=form.get("everyone") == "on",
        members=_words(str(form.get("members", ""))),
    )  # fmt: skip


#: The form field a message is about, by its first words, so it is shown next to that field.
_MESSAGE_FIELDS = {"slug": "slug", "title": "title", "problems": "problems", "no problem":
                   "problems", "start": "starts_at", "end": "ends_at", "style": "style",
                   "late policy": "late_policy", "freeze": "freeze_minutes", "no user": "members",
                   **{name: name for name in FIELDS}}  # fmt: skip


def _field_of(message: str) -> str | None:
    head = message.split(":")[0].split(" '")[0].strip()
    return _MESSAGE_FIELDS.get(head)


def _message(e: Exception) -> str:
    if isinstance(e, ValidationError):
        first = e.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return str(e)
