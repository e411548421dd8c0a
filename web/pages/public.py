"""Pages for everyone: problems, the submit form, a submission, my submissions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from starlette.datastructures import UploadFile

from store import Problem, ProblemFile, Submission, TestCase, utcnow
from store import problem_sets as sets
from store.formats.icpc import OWN_SAMPLES
from store.vocab import FINISHED
from web import grading, highlight, submission_zip, visibility
from web.api import sets as api_sets
from web.api import submissions as api_submissions
from web.api.problems import find, listed
from web.deps import DB, MaybeUser, RowId, app_state
from web.errors import ApiError
from web.pages.render import checked_form, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def problem_list(request: Request, session: DB, user: MaybeUser) -> Response:
    problems = session.scalars(select(Problem).where(listed(user)).order_by(Problem.slug)).all()
    solved: set[int] = set()
    if user is not None:
        solved = set(
            session.scalars(
                select(Submission.problem_id).where(
                    Submission.user_id == user.id, Submission.verdict == "AC"
                )
            )
        )
    return render(request, "problems.html", {"problems": problems, "solved": solved}, user=user)


@router.get("/problems/{slug}")
def problem_page(
    request: Request, slug: str, session: DB, user: MaybeUser, set: str | None = None
) -> Response:
    problem = find(session, slug, viewer=user)
    in_set = api_sets.shown_through(session, set, slug, user) if set else None
    recent = []
    if user is not None:
        recent = list(
            session.scalars(
                select(Submission)
                .where(Submission.user_id == user.id, Submission.problem_id == problem.id)
                .order_by(Submission.id.desc())
                .limit(5)
            )
        )
    # Names only: a statement PDF's bytes are not needed to link to it.
    file_names = list(
        session.scalars(
            select(ProblemFile.name)
            .where(ProblemFile.problem_id == problem.id)
            .order_by(ProblemFile.name)
        )
    )
    maxima = app_state(request).settings.run_maxima
    return render(
        request,
        "problem.html",
        {"problem": problem, "languages": grading.languages(), "recent": recent,
         "file_names": file_names, "samples": _samples(session, problem), "in_set": in_set,
         # The run's limits: the problem's, within what an ad-hoc run may ask for.
         "run_cpu": min(problem.time_limit, maxima.cpu_time),
         "run_memory": min(problem.memory_limit, maxima.memory)},
        user=user,
    )  # fmt: skip


MAX_SAMPLES, MAX_SAMPLE_BYTES = 10, 64 << 10


def _samples(session: DB, problem: Problem) -> list[tuple[str, str]]:
    """The tests marked as samples, as text to show and copy: samples are public by their
    flag (visibility shows their details too); a long one is left to the statement."""
    if problem.interactor is not None:
        return []  # an interactive test's input is the interactor's, not the program's
    if OWN_SAMPLES.search(problem.statement or ""):
        return []  # the statement shows them (an imported package's, say): not twice
    rows = session.execute(
        select(TestCase.input, TestCase.output)
        .where(TestCase.problem_id == problem.id, TestCase.sample,
               func.length(TestCase.input) <= MAX_SAMPLE_BYTES,
               func.length(TestCase.output) <= MAX_SAMPLE_BYTES)
        .order_by(TestCase.index).limit(MAX_SAMPLES)
    )  # fmt: skip
    return [(i.decode("utf-8", "replace"), o.decode("utf-8", "replace")) for i, o in rows]


@router.get("/problems/{slug}/files/{name}")
def problem_file(slug: str, name: str, session: DB, user: MaybeUser) -> Response:
    """A file offered with the problem (its statement PDF, an attachment): public, like the
    statement. Test data is never here: it lives in test_cases, not problem_files."""
    problem = find(session, slug, viewer=user)
    found = session.scalars(
        select(ProblemFile).where(ProblemFile.problem_id == problem.id, ProblemFile.name == name)
    ).first()
    if found is None:
        raise ApiError(404, f"problem {slug!r} has no file {name!r}")
    kind = "application/pdf" if name.lower().endswith(".pdf") else "application/octet-stream"
    return Response(
        found.data,
        media_type=kind,
        headers={
            "Content-Disposition": f'attachment; filename="{slug}-{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/problems/{slug}/submit")
async def submit_form(request: Request, slug: str, user: MaybeUser) -> Response:
    if user is None:
        return redirect(f"/login?next=/problems/{slug}")
    state = app_state(request)
    form = await checked_form(request, max_part_size=state.settings.max_source_bytes + 1024)
    language = str(form.get("language", ""))
    source = str(form.get("source", "") or "")
    files: dict[str, str] = {}
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        if source.strip():
            # Which one was meant? Guessing would grade code the student did not choose.
            raise ApiError(422, "paste your code or choose a file, not both")
        cap = state.settings.max_source_bytes
        raw = await upload.read(cap + 1)
        if len(raw) > cap:
            raise ApiError(413, f"the file is larger than {cap} bytes")
        if submission_zip.is_zip(upload.filename, raw):
            files = await run_in_threadpool(submission_zip.files_from_zip, raw, cap)
            source = ""
        else:
            source = raw.decode("utf-8", "replace")
    if not source.strip() and not files:
        raise ApiError(422, "paste your code or choose a file")

    set_slug = str(form.get("set", "") or "")

    def create() -> int:
        with state.sessions() as session:
            pset = api_sets.find(session, set_slug, user) if set_slug else None
            if pset is not None:
                api_sets.check_submit(pset, user, slug, utcnow())
            sid = api_submissions.create_submission(
                state, session, user, slug, language, source, files or None
            )
            if pset is not None:
                api_sets.attribute(session, sid, pset)
            return sid

    submission_id = await run_in_threadpool(create)
    return redirect(f"/submissions/{submission_id}")


@router.get("/submissions/{submission_id}")
def submission_page(
    request: Request, submission_id: RowId, session: DB, user: MaybeUser
) -> Response:
    sub = api_submissions.load(session, submission_id)
    if sub is None or not api_submissions.visible(sub, user):
        raise ApiError(404, "no such submission of yours")
    viewer = visibility.viewer_for(session, sub, user)
    results = {view.index: view for view in visibility.test_rows(sub.results, viewer)}
    rows = [(index, results.get(index)) for index in range(1, sub.problem.test_count + 1)]
    return render(
        request,
        "submission.html",
        {
            "sub": sub,
            "message": visibility.submission_message(sub, viewer),
            "totals": viewer.shows_totals,
            "rows": rows,
            "finished": sub.status in FINISHED,
            "language": _language_label(sub.language),
            "source_html": highlight.source_html(sub.source, sub.language),
            "late_for": sets.late_for(session, sub),
        },
        user=user,
    )


@router.get("/submissions")
def my_submissions(request: Request, session: DB, user: MaybeUser) -> Response:
    if user is None:
        return redirect("/login?next=/submissions")
    subs = session.scalars(
        select(Submission)
        .where(Submission.user_id == user.id)
        .options(selectinload(Submission.problem))
        .order_by(Submission.id.desc())
        .limit(200)
    ).all()
    return render(request, "submissions.html", {"subs": subs, "title": "My submissions"}, user=user)


def _language_label(language_id: str) -> str:
    """The language by name and version ("Python 3.11.2", "C (gcc 12.2.0)"), not our id."""
    for lang in grading.languages():
        if lang["id"] == language_id:
            name, version = lang["name"], lang.get("version") or ""
            if not version:
                return name
            # "Python 3.11.2" says it all; "C (gcc 12.2.0)" needs both.
            if version.lower().startswith(name.split()[0].lower()):
                return version
            return f"{name} ({version})"
    return language_id  # no longer installed here
