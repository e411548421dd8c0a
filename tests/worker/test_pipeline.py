"""The pipeline's error paths, driven in-process with a sandbox that fails on purpose."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from worker_test_programs import APLUSB, APLUSB_SOURCES

import sandbox
import store
from store import Status, Submission, Verdict
from worker import create_submission, pipeline
from worker.config import Settings
from worker.execution import sandbox_runner

SETTINGS = Settings(
    redis_url="redis://unused",
    lease_seconds=5,
    max_attempts=3,
    sweep_interval=1,
    requeue_after=60,
    retry_delay=0.1,
    visibility_timeout=3600,
)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, float]] = []

    def __call__(self, sid: int, queue: str, countdown: float) -> None:
        self.sent.append((sid, queue, countdown))


def _grade(sessions: sessionmaker[Session], sid: int, run: Any, enqueue: Recorder) -> str:
    return pipeline.grade(sessions, sid, settings=SETTINGS, owner="t", enqueue=enqueue, run=run)


def _submission(sessions: sessionmaker[Session], spec: dict[str, Any] = APLUSB) -> int:
    with sessions() as s:
        store.import_problem(s, spec)
        sid = create_submission(s, spec["slug"], "python3", APLUSB_SOURCES["python3"]).id
        s.commit()
    return sid


def _get(sessions: sessionmaker[Session], sid: int) -> Submission:
    with sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        _ = sub.results
        return sub


def _refusing(*_: Any, **__: Any) -> sandbox.Result:
    raise sandbox.SandboxError("no cgroups today")


def test_internal_errors_are_retried_then_capped(sessions: sessionmaker[Session]) -> None:
    sid = _submission(sessions)
    enqueue = Recorder()
    assert _grade(sessions, sid, _refusing, enqueue) == "retry"
    sub = _get(sessions, sid)
    assert (sub.status, sub.verdict, sub.attempts) == (Status.QUEUED, None, 1)
    assert sub.message and "no cgroups today" in sub.message
    assert enqueue.sent == [(sid, "interactive", 0.1)]
    assert _grade(sessions, sid, _refusing, enqueue) == "retry"
    assert enqueue.sent[-1] == (sid, "interactive", 0.2)  # backoff doubles
    assert _grade(sessions, sid, _refusing, enqueue) == "failed"
    sub = _get(sessions, sid)
    assert (sub.status, sub.verdict, sub.attempts) == (Status.ERROR, Verdict.IE, 3)
    assert sub.message and "gave up after 3 attempts" in sub.message
    assert len(enqueue.sent) == 2
    assert _grade(sessions, sid, _refusing, enqueue) == "skipped"


def test_sandbox_internal_error_verdict_is_never_the_users(sessions: sessionmaker[Session]) -> None:
    sid = _submission(sessions)

    def broken(*_: Any, **__: Any) -> sandbox.Result:
        return sandbox.Result(verdict=sandbox.Verdict.INTERNAL_ERROR, message="helper crashed")

    assert _grade(sessions, sid, broken, Recorder()) == "retry"
    sub = _get(sessions, sid)
    assert sub.verdict is None and sub.results == []
    assert sub.message and "helper crashed" in sub.message


def test_failure_mid_grading_then_clean_retry(sessions: sessionmaker[Session]) -> None:
    sid = _submission(sessions)
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> sandbox.Result:
        calls["n"] += 1
        if calls["n"] == 5:  # compile, tests 1-3 fine, then the sandbox breaks
            raise OSError("box slot vanished")
        return sandbox_runner(*args, **kwargs)

    enqueue = Recorder()
    assert _grade(sessions, sid, flaky, enqueue) == "retry"
    assert len(_get(sessions, sid).results) == 3, "progress was visible before the failure"
    assert _grade(sessions, sid, flaky, enqueue) == "done"
    sub = _get(sessions, sid)
    assert (sub.verdict, sub.attempts, sub.message) == (Verdict.AC, 2, None)
    assert [r.test_index for r in sub.results] == list(range(1, 11))


def test_interactive_problem_compiles_its_interactor_once(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker_test_programs import GUESS, GUESS_PY

    from worker.interaction import sandbox_interact

    monkeypatch.setattr(pipeline, "_checker_cache", pipeline._ProgramCache())
    with sessions() as s:
        store.import_problem(s, GUESS)
        ids = [create_submission(s, GUESS["slug"], "python3", GUESS_PY).id for _ in range(2)]
        s.commit()
    runs: list[list[str]] = []
    talks: list[list[str]] = []

    def counting(cmd: list[str], *args: Any, **kwargs: Any) -> sandbox.Result:
        runs.append(cmd)
        return sandbox_runner(cmd, *args, **kwargs)

    def interact(
        first: sandbox.Side, second: sandbox.Side, *, grace: float = 1.0
    ) -> tuple[sandbox.Result, sandbox.Result]:
        talks.append(list(second.cmd))
        return sandbox_interact(first, second, grace=grace)

    per_grading = []
    for sid in ids:
        before = len(runs)
        outcome = pipeline.grade(
            sessions, sid, settings=SETTINGS, owner="t", enqueue=Recorder(), run=counting,
            interact=interact,
        )  # fmt: skip
        assert outcome == "done"
        per_grading.append(len(runs) - before)
        sub = _get(sessions, sid)
        assert (sub.verdict, sub.score) == (Verdict.AC, 5)
    # solution + interactor syntax checks, then the solution's alone; every test one talk.
    assert per_grading == [2, 1]
    assert len(talks) == 10 and all(t[-3:] == ["input.txt", "output.txt", "answer.txt"] for t in talks)


def test_interactive_sandbox_failure_is_retried(sessions: sessionmaker[Session]) -> None:
    from worker_test_programs import GUESS, GUESS_PY

    with sessions() as s:
        store.import_problem(s, GUESS)
        sid = create_submission(s, GUESS["slug"], "python3", GUESS_PY).id
        s.commit()

    def refusing(*_: Any, **__: Any) -> tuple[sandbox.Result, sandbox.Result]:
        raise sandbox.SandboxError("no second box today")

    enqueue = Recorder()
    outcome = pipeline.grade(
        sessions, sid, settings=SETTINGS, owner="t", enqueue=enqueue, run=sandbox_runner,
        interact=refusing,
    )  # fmt: skip
    assert outcome == "retry" and enqueue.sent == [(sid, "interactive", 0.1)]
    sub = _get(sessions, sid)
    assert (sub.status, sub.verdict) == (Status.QUEUED, None)
    assert sub.message and "no second box today" in sub.message


def test_language_missing_on_this_worker_is_retried(sessions: sessionmaker[Session]) -> None:
    sid = _submission(sessions)
    with sessions.begin() as s:
        s.execute(update(Submission).where(Submission.id == sid).values(language="cobol"))
    assert _grade(sessions, sid, sandbox_runner, Recorder()) == "retry"
    assert "cobol" in (_get(sessions, sid).message or "")


@pytest.mark.parametrize("missing", [12345])
def test_unknown_submission_is_skipped(sessions: sessionmaker[Session], missing: int) -> None:
    assert _grade(sessions, missing, sandbox_runner, Recorder()) == "skipped"


def test_submit_survives_a_broker_outage(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    import worker
    import worker.celery_app

    def down(*_: Any, **__: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(worker.celery_app, "enqueue", down)
    with sessions() as s:
        store.import_problem(s, APLUSB)
        s.commit()
        sid = worker.submit(s, "aplusb", "python3", APLUSB_SOURCES["python3"])
    # Committed before the failed enqueue: the row waits for the sweeper's re-send.
    sub = _get(sessions, sid)
    assert (sub.status, sub.attempts) == (Status.QUEUED, 0)
    assert sub.enqueued_at is not None


def test_custom_checker_compiles_once_per_process(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker_test_programs import CUSTOM, SQUARES_HALF

    monkeypatch.setattr(pipeline, "_checker_cache", pipeline._ProgramCache())
    with sessions() as s:
        store.import_problem(s, CUSTOM)
        ids = [create_submission(s, CUSTOM["slug"], "python3", SQUARES_HALF).id for _ in range(2)]
        s.commit()
    runs: list[list[str]] = []

    def counting(cmd: list[str], *args: Any, **kwargs: Any) -> sandbox.Result:
        runs.append(cmd)
        return sandbox_runner(cmd, *args, **kwargs)

    per_grading = []
    for sid in ids:
        before = len(runs)
        assert _grade(sessions, sid, counting, Recorder()) == "done"
        per_grading.append(len(runs) - before)
        assert _get(sessions, sid).score == 40
    # solution compile + checker compile + 2 tests x (run + check), then no checker compile.
    assert per_grading == [6, 5]


@pytest.mark.parametrize(("limits", "compile_wall"), [(None, 20.0), ({"compile_time": 30}, 65.0)])
def test_each_step_starts_under_a_lease_that_outlasts_its_limit(
    sessions: sessionmaker[Session], limits: dict[str, Any] | None, compile_wall: float
) -> None:
    """The compile starts under a lease reaching past its wall limit plus the lease slack:
    the claim's own for a compile of the default length (no renewal), a renewed one for a
    longer compile (a package's compile_time: 2 x 30 + 5 s); the tests under their own."""
    sid = _submission(sessions, {**APLUSB, "limits": limits})
    seen: list[tuple[Status, float]] = []

    def watching(cmd: list[str], *args: Any, **kwargs: Any) -> sandbox.Result:
        with sessions() as s:
            sub = s.get(Submission, sid)
            assert sub is not None and sub.lease_until is not None
            seen.append((sub.status, (sub.lease_until - store.utcnow()).total_seconds()))
        return sandbox_runner(cmd, *args, **kwargs)

    assert _grade(sessions, sid, watching, Recorder()) == "done"
    (compiling, compile_left), (running, test_left) = seen[0], seen[1]
    assert compiling is Status.COMPILING and running is Status.RUNNING
    assert compile_left >= compile_wall + SETTINGS.lease_seconds - 1.0
    test_wall = APLUSB["time_limit"] * 1.5 + 1  # RunLimits.wall_time
    assert test_left >= test_wall + SETTINGS.lease_seconds - 1.0
