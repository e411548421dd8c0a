"""Templates and the browser session: every page goes through ``render``.

Every visitor gets a signed session cookie on the first page, even before logging in, because
the login form itself needs a CSRF token bound to something the visitor holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin
from starlette.datastructures import FormData

from store import User
from store.problems import shows_totals
from web import statement_math
from web.deps import SESSION_COOKIE, app_state, browser_session, reviews
from web.errors import ApiError
from web.security import SESSION_MAX_AGE, SessionData

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
# html=False: raw HTML in a statement is shown as text, never injected into the page.
# markdown-it also refuses javascript: and data: links by default.
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# $...$ and $$...$$ become MathML (web.statement_math checks what it lets through). Not after
# or before a digit, so "$5 and $10" stays text.
dollarmath_plugin(_MD, allow_digits=False, double_inline=True,
                  renderer=lambda latex, opts: statement_math.render(
                      latex, bool(opts.get("display_mode"))))  # fmt: skip


def markdown(text: str) -> Markup:
    return Markup(_MD.render(text))  # safe: the renderer escapes, and html is off


def fmt_time(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.3f} s"


def fmt_memory(size: int | None) -> str:
    if size is None:
        return ""
    for unit, shift in (("GiB", 30), ("MiB", 20)):
        if size >= 1 << shift:
            value = size / (1 << shift)
            # Limits are round numbers ("256 MiB"); measurements keep one decimal.
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{size / 1024:.0f} KiB"


def fmt_bytes(size: int | None) -> str:
    if size is None:
        return ""
    return f"{size} B" if size < 1024 else fmt_memory(size)


VERDICT_NAMES = {
    "AC": "Accepted",
    "WA": "Wrong answer",
    "PE": "Presentation error",
    "TLE": "Time limit exceeded",
    "MLE": "Memory limit exceeded",
    "OLE": "Output limit exceeded",
    "RE": "Runtime error",
    "SV": "Security violation",
    "CE": "Compilation error",
    "IE": "Internal error",
    "SK": "Skipped",
}

TEMPLATES.env.globals["verdict_names"] = VERDICT_NAMES
TEMPLATES.env.globals["shows_totals"] = shows_totals
TEMPLATES.env.globals["bool"] = bool
TEMPLATES.env.filters["markdown"] = markdown
TEMPLATES.env.filters["seconds"] = fmt_time
TEMPLATES.env.filters["memory"] = fmt_memory
TEMPLATES.env.filters["bytes"] = fmt_bytes
TEMPLATES.env.globals["reviews"] = reviews


def session_of(request: Request) -> SessionData:
    """The visitor's session, or a new anonymous one (stored on the request for set_cookie)."""
    existing: SessionData | None = getattr(request.state, "new_session", None)
    if existing is not None:
        return existing
    data = browser_session(request)
    if data is None:
        data = SessionData.new()
        request.state.new_session = data
    return data


def set_session(request: Request, response: Response, data: SessionData) -> None:
    state = app_state(request)
    response.set_cookie(
        SESSION_COOKIE,
        state.signer.dumps(data),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    status: int = 200,
) -> Response:
    data = session_of(request)
    ctx = {
        "user": user,
        "csrf": app_state(request).signer.csrf_token(data),
        "open_signup": app_state(request).settings.open_signup,
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status)
    if getattr(request.state, "new_session", None) is not None:
        set_session(request, response, data)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def checked_form(request: Request, **limits: int) -> FormData:
    """The posted form, once its CSRF token is checked: every page form comes in this way, so
    none can forget the check. `limits` are Starlette's (max_files, max_part_size, ...)."""
    form = await request.form(**limits)
    check_csrf(request, form.get("csrf"))
    return form


def check_csrf(request: Request, token: object) -> None:
    data = browser_session(request)
    signer = app_state(request).signer
    if not signer.check_csrf(data, token if isinstance(token, str) else None):
        raise ApiError(403, "the form expired or came from another site; reload and try again")
