"""The status page for staff and admins: every submission, filtered by user, problem,
verdict and language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from store import Problem, Submission, User
from store.vocab import Verdict
from web import grading
from web.deps import DB, StaffUser
from web.pages.render import render

router = APIRouter(include_in_schema=False)
LIMIT = 300


@router.get("/status")
def status(
    request: Request, session: DB, viewer: StaffUser, user: str = "", problem: str = "",
    verdict: str = "", language: str = "",
) -> Response:  # fmt: skip
    query = (
        select(Submission)
        .options(selectinload(Submission.problem), selectinload(Submission.user))
        .order_by(Submission.id.desc())
        .limit(LIMIT)
    )
    if user.strip():
        query = query.join(User, Submission.user_id == User.id).where(User.name == user.strip())
    if problem.strip():
        query = query.join(Problem, Submission.problem_id == Problem.id).where(
            Problem.slug == problem.strip()
        )
    if verdict in {v.value for v in Verdict}:
        query = query.where(Submission.verdict == verdict)
    if language.strip():
        query = query.where(Submission.language == language.strip())
    ctx = {
        "subs": session.scalars(query).all(),
        "title": "Status",
        "filters": {"user": user, "problem": problem, "verdict": verdict, "language": language},
        "verdicts": [v.value for v in Verdict],
        "languages": grading.languages(),
    }
    return render(request, "submissions.html", ctx, user=viewer)
